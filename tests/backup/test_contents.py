"""What an archive holds: a manifest that describes it, every backed-up table, no plaintext secret."""

import hashlib
import json
import zipfile

from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

import mamcrawler
from downloads.models import Download
from mamcrawler.backup.services import backup_write
from tests.backup.conftest import MAM_COOKIE, TORRENT, snapshot


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_manifest_describes_the_archive(instance, tmp_path):
    path = tmp_path / "b.zip"
    manifest = backup_write(path)

    files = members(path)
    assert json.loads(files["manifest.json"]) == manifest
    assert manifest["format"] == "mamcrawler-backup" and manifest["format_version"] == 1
    assert manifest["app_version"] == mamcrawler.__version__
    assert manifest["database_vendor"] == connection.vendor
    latest = {}
    for record in MigrationRecorder.Migration.objects.order_by("id"):
        latest[record.app] = record.name
    assert manifest["migrations"] == latest
    rows = {label: len(table) for label, table in snapshot(with_cache=False).items()}
    assert {entry["model"]: entry["rows"] for entry in manifest["models"]} == rows
    for entry in manifest["models"]:
        assert hashlib.sha256(files[entry["file"]]).hexdigest() == entry["sha256"]
        assert files[entry["file"]].count(b"\n") == entry["rows"]
    assert set(files) == {"manifest.json", *(entry["file"] for entry in manifest["models"])}


def test_it_leaves_out_transient_tables_and_the_mam_cookie(instance, tmp_path):
    path = tmp_path / "b.zip"
    labels = {entry["model"] for entry in backup_write(path)["models"]}

    assert not labels & {
        "downloads.mamsession",
        "scheduler.joblock",
        "scheduler.workerheartbeat",
        "system.throttlecounter",
        "sessions.session",
        "django_q.task",
        "django_q.ormq",
        "token_blacklist.outstandingtoken",
        "library.providercache",
    }
    assert all(MAM_COOKIE.encode() not in data for data in members(path).values())


def test_it_holds_hashes_but_no_plaintext_secret(instance, tmp_path):
    path = tmp_path / "b.zip"
    backup_write(path, with_cache=True)
    secret = instance["secret"].encode()
    files = members(path)

    assert secret not in path.read_bytes()
    assert all(secret not in data for data in files.values())
    # The hashes are there, so keys and passwords keep working after a restore.
    assert instance["api_key"].hashed_key.encode() in files["data/accounts.apikey.jsonl"]
    assert instance["admin"].password.encode() in files["data/accounts.user.jsonl"]


def test_the_provider_cache_is_only_backed_up_when_asked(instance, tmp_path):
    without = backup_write(tmp_path / "a.zip")
    with_cache = backup_write(tmp_path / "b.zip", with_cache=True)

    assert "library.providercache" not in {entry["model"] for entry in without["models"]}
    assert {"model": "library.providercache", "rows": 1}.items() <= next(
        entry for entry in with_cache["models"] if entry["model"] == "library.providercache"
    ).items()


def test_torrent_files_survive_byte_for_byte(instance, tmp_path):
    path = tmp_path / "b.zip"
    backup_write(path)
    call_command("restore", str(path), "--force")

    assert bytes(Download.objects.get(title="Earthsea 3").torrent_file) == TORRENT
