"""/api/v1/system/: figures, storage, the MAM account, logs and versions (SPEC §4 System)."""

from __future__ import annotations

import platform
import shutil
import time
from datetime import timedelta
from decimal import Decimal

import django
import pytest
import rest_framework
from django.db import connection
from django.utils import timezone

import mamcrawler
from downloads.models import Download, MamAccountSnapshot, MamSession
from library.models import BookFile, MissingBook, Series
from mamcrawler.system import logs, selectors
from tests.downloads.factories import DownloadFactory
from tests.factories import AuthorFactory, BookFactory, SeriesFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/system"
ENDPOINTS = [
    "stats",
    "library-status",
    "download-stats",
    "storage",
    "configuration",
    "integrations",
    "mam",
    "logs",
    "version",
]
ADMIN_ONLY = ["configuration", "logs"]


@pytest.fixture(autouse=True)
def no_integrations(settings):
    """Nothing here may reach a real service: every integration is unconfigured."""
    settings.MAM_SESSION_ID = ""
    settings.QBITTORRENT_URL = ""
    settings.ABS_URL = ""
    settings.METADATA_PROVIDERS = []


def _gaps(*statuses):
    author = AuthorFactory()
    for index, status in enumerate(statuses):
        MissingBook.objects.create(
            title=f"Wanted {index}",
            title_key=f"wanted {index}",
            reason="wishlist",
            status=status,
            primary_author=author,
            last_seen=timezone.now(),
        )


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_needs_authentication(api_client, path):
    response = api_client.get(f"{BASE}/{path}/")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("path", [path for path in ENDPOINTS if path not in ADMIN_ONLY])
def test_a_viewer_reads_the_system_figures(viewer_client, path):
    assert viewer_client.get(f"{BASE}/{path}/").status_code == 200


@pytest.mark.parametrize("path", ADMIN_ONLY)
def test_configuration_and_logs_are_for_admins_only(viewer_client, editor_client, admin_client, path):
    for client in (viewer_client, editor_client):
        response = client.get(f"{BASE}/{path}/")
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    assert admin_client.get(f"{BASE}/{path}/").status_code == 200


def test_a_read_scoped_api_key_of_an_admin_cannot_read_the_logs(api_key_client, admin_user):
    client = api_key_client(admin_user, scopes=("read",))

    assert client.get(f"{BASE}/logs/").status_code == 403
    assert client.get(f"{BASE}/stats/").status_code == 200


# --- stats/ ----------------------------------------------------------------------------------------


def test_stats_count_books_series_authors_gaps_and_downloads_by_status(viewer_client):
    BookFactory.create_batch(3)
    BookFactory(status="archived")
    SeriesFactory.create_batch(2)
    _gaps("wanted", "wanted", "ignored")  # also makes one author
    AuthorFactory.create_batch(2)
    DownloadFactory(status="imported")
    DownloadFactory(status="failed")
    DownloadFactory(status="failed")

    body = viewer_client.get(f"{BASE}/stats/").json()

    assert body["books"]["total"] == 4
    assert body["books"]["by_status"] == {"active": 3, "archived": 1, "duplicate": 0}
    assert body["series"] == 2
    assert body["authors"] == 3
    assert body["gaps"]["total"] == 3
    assert body["gaps"]["by_status"]["wanted"] == 2
    assert body["gaps"]["by_status"]["ignored"] == 1
    assert body["gaps"]["by_status"]["identified"] == 0
    assert body["downloads"]["total"] == 3
    assert body["downloads"]["by_status"]["failed"] == 2
    assert body["downloads"]["by_status"]["imported"] == 1
    assert body["downloads"]["by_status"]["queued"] == 0


@pytest.mark.parametrize("rows", [3, 30])
def test_stats_take_the_same_queries_at_3_and_30_rows(viewer_client, django_assert_num_queries, rows):
    BookFactory.create_batch(rows)
    SeriesFactory.create_batch(rows)
    _gaps(*(["wanted"] * rows))
    DownloadFactory.create_batch(rows)

    # 1 throttle counter upsert, 2 books per status, 3 series count, 4 authors count,
    # 5 gaps per status, 6 downloads per status.
    with django_assert_num_queries(6):
        response = viewer_client.get(f"{BASE}/stats/")

    assert response.status_code == 200
    assert response.json()["books"]["total"] == rows


# --- library-status/ ---------------------------------------------------------------------------------


def test_library_status_sums_up_completeness_and_completion(viewer_client, settings):
    settings.INCOMPLETE_THRESHOLD = 80
    for book in BookFactory.create_batch(3):
        type(book).objects.filter(pk=book.pk).update(metadata_completeness=90)
    low = BookFactory()
    type(low).objects.filter(pk=low.pk).update(metadata_completeness=10)
    Series.objects.bulk_create(
        [
            Series(name="Done", name_key="done", completion_status="complete"),
            Series(name="Half", name_key="half", completion_status="partial"),
            Series(name="Half 2", name_key="half 2", completion_status="partial", monitored=True),
        ]
    )

    body = viewer_client.get(f"{BASE}/library-status/").json()

    assert body["metadata"]["active_books"] == 4
    assert body["metadata"]["below_threshold"] == 1
    buckets = {bucket["range"]: bucket["count"] for bucket in body["metadata"]["buckets"]}
    assert buckets["80-100"] == 3
    assert buckets["0-19"] == 1
    assert body["series"]["total"] == 3
    assert body["series"]["monitored"] == 1
    assert body["series"]["by_status"] == {"complete": 1, "partial": 2, "incomplete": 0, "unknown": 0}
    assert body["authors"]["total"] == 0


# --- download-stats/ -----------------------------------------------------------------------------------


def test_download_stats_report_sources_sizes_recent_imports_failures_and_cost(viewer_client):
    now = timezone.now()
    DownloadFactory(status="imported", size_bytes=1000, is_free=True, status_changed_at=now - timedelta(hours=2))
    DownloadFactory(status="imported", size_bytes=2000, used_wedge=True, status_changed_at=now - timedelta(days=3))
    DownloadFactory(status="imported", size_bytes=4000, status_changed_at=now - timedelta(days=10))
    DownloadFactory(status="failed", size_bytes=None, source="manual")
    DownloadFactory(status="abandoned", size_bytes=500, source="upload", is_vip=True)

    body = viewer_client.get(f"{BASE}/download-stats/").json()

    assert body["total"] == 5
    assert body["by_status"]["imported"] == 3
    assert body["by_source"] == {"mam": 3, "manual": 1, "upload": 1}
    assert body["total_size_bytes"] == 7500
    assert body["imported_size_bytes"] == 7000
    assert body["imported_last_24h"] == 1
    assert body["imported_last_7d"] == 2
    assert body["failed"] == 1
    assert body["abandoned"] == 1
    assert body["cost"] == {"free": 2, "wedge": 1, "paid": 2}


# --- storage/ ------------------------------------------------------------------------------------------


def test_storage_sums_file_sizes_by_format_and_reads_the_library_disk(viewer_client, settings, tmp_path):
    settings.LIBRARY_ROOT = str(tmp_path)
    book = BookFactory(format="m4b", size_bytes=700)
    BookFactory(format="mp3", size_bytes=300)
    BookFile.objects.create(book=book, path="/lib/a/1.m4b", size_bytes=400, format="m4b")
    BookFile.objects.create(book=book, path="/lib/a/2.m4b", size_bytes=300, format="m4b")
    BookFile.objects.create(book=book, path="/lib/a/3.mp3", size_bytes=50, format="mp3")

    body = viewer_client.get(f"{BASE}/storage/").json()

    assert body["library"]["files_by_format"] == {
        "m4b": {"files": 2, "size_bytes": 700},
        "mp3": {"files": 1, "size_bytes": 50},
    }
    assert body["library"]["files_total_bytes"] == 750
    assert body["library"]["books_by_format"]["mp3"] == {"books": 1, "size_bytes": 300}
    assert body["library"]["books_total_bytes"] == 1000
    disk = body["disk"]
    usage = shutil.disk_usage(tmp_path)
    assert disk["path"] == str(tmp_path)
    assert disk["total_bytes"] == usage.total
    assert disk["free_bytes"] > 0
    assert disk["reason"] is None
    assert body["database"]["vendor"] == connection.vendor
    assert body["database"]["size_bytes"] > 0


@pytest.mark.parametrize(("root", "reason"), [("", "not set"), ("/nonexistent/library", "does not exist")])
def test_storage_without_a_usable_library_root_says_why(viewer_client, settings, root, reason):
    settings.LIBRARY_ROOT = root

    disk = viewer_client.get(f"{BASE}/storage/").json()["disk"]

    assert disk["total_bytes"] is None
    assert disk["free_bytes"] is None
    assert reason in disk["reason"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file size")
def test_a_sqlite_database_counts_its_file_and_its_write_ahead_log(monkeypatch, tmp_path):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"x" * 4096)
    (tmp_path / "db.sqlite3-wal").write_bytes(b"w" * 1000)
    monkeypatch.setitem(connection.settings_dict, "NAME", str(database))
    monkeypatch.setattr(connection, "is_in_memory_db", lambda: False)

    size = selectors.database_size()

    assert size == {"vendor": "sqlite", "size_bytes": 5096, "wal_bytes": 1000, "method": "file"}


# --- mam/ ----------------------------------------------------------------------------------------------


def _snapshot(days_ago: float, ratio: str, **fields):
    snapshot = MamAccountSnapshot.objects.create(ratio=Decimal(ratio), username="reader", **fields)
    MamAccountSnapshot.objects.filter(pk=snapshot.pk).update(taken_at=timezone.now() - timedelta(days=days_ago))
    return snapshot


def test_mam_answers_the_newest_snapshot_and_a_week_of_ratio(viewer_client):
    _snapshot(10, "1.0000")
    _snapshot(6, "2.0000")
    _snapshot(1, "2.5000")
    _snapshot(0.1, "3.2500", wedges=4, unsat_count=7, unsat_limit=50, classname="Power User", site_freeleech=True)
    MamSession.objects.create(
        pk=MamSession.SINGLETON_ID,
        mam_id="cookie-must-not-leak",
        expired=True,
        last_error="MAM session expired: set a new MAM_SESSION_ID",
    )

    response = viewer_client.get(f"{BASE}/mam/")

    body = response.json()
    assert body["latest"]["ratio"] == 3.25
    assert body["latest"]["wedges"] == 4
    assert body["latest"]["unsat_count"] == 7
    assert body["latest"]["classname"] == "Power User"
    assert body["site_freeleech"] is True
    assert [point["ratio"] for point in body["trend"]] == [2.0, 2.5, 3.25]
    assert body["ratio_change"] == pytest.approx(1.25)
    assert body["session"]["expired"] is True
    assert "MAM_SESSION_ID" in body["session"]["last_error"]
    assert "cookie-must-not-leak" not in response.content.decode()


def test_mam_without_any_snapshot_answers_nulls(viewer_client):
    body = viewer_client.get(f"{BASE}/mam/").json()

    assert body["latest"] is None
    assert body["trend"] == []
    assert body["ratio_change"] is None
    assert body["session"] == {"exists": False, "expired": False, "last_error": None, "updated_at": None}


def test_the_mam_trend_is_bounded(viewer_client, monkeypatch):
    monkeypatch.setattr(selectors, "MAM_TREND_POINTS", 5)
    for hour in range(12):
        _snapshot(hour / 24, f"{2 + hour / 100:.4f}")

    trend = viewer_client.get(f"{BASE}/mam/").json()["trend"]

    assert len(trend) == 5
    assert trend[-1]["ratio"] == 2.0  # the newest, oldest first


# --- logs/ ---------------------------------------------------------------------------------------------


@pytest.fixture
def log_file(settings, tmp_path):
    path = tmp_path / "mamcrawler.log"
    path.write_text("".join(f"2026-01-01 INFO mamcrawler line {number}\n" for number in range(1, 2001)))
    settings.LOG_FILE = str(path)
    return path


def test_logs_answer_the_last_lines_oldest_first(admin_client, log_file):
    body = admin_client.get(f"{BASE}/logs/", {"lines": 3}).json()

    assert body["lines"] == [f"2026-01-01 INFO mamcrawler line {number}" for number in (1998, 1999, 2000)]
    assert body["count"] == 3
    assert body["truncated"] is True
    assert body["file"] == str(log_file)
    assert body["size_bytes"] == log_file.stat().st_size


def test_logs_default_to_100_lines_and_allow_1000(admin_client, log_file):
    assert admin_client.get(f"{BASE}/logs/").json()["count"] == 100
    body = admin_client.get(f"{BASE}/logs/", {"lines": 1000}).json()
    assert body["count"] == 1000
    assert body["lines"][0].endswith("line 1001")


@pytest.mark.parametrize("lines", ["0", "1001", "-5", "many"])
def test_a_bad_line_count_is_a_422_on_the_query(admin_client, log_file, lines):
    response = admin_client.get(f"{BASE}/logs/", {"lines": lines})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["context"]["validation_errors"][0]["loc"] == ["query", "lines"]


def test_without_a_log_file_the_logs_say_why(admin_client, settings):
    settings.LOG_FILE = ""

    body = admin_client.get(f"{BASE}/logs/").json()

    assert body["lines"] == []
    assert body["file"] is None
    assert "LOG_FILE" in body["reason"]


def test_a_short_log_is_answered_whole(admin_client, settings, tmp_path):
    path = tmp_path / "short.log"
    path.write_text("first\nsecond\n")
    settings.LOG_FILE = str(path)

    body = admin_client.get(f"{BASE}/logs/", {"lines": 50}).json()

    assert body["lines"] == ["first", "second"]
    assert body["truncated"] is False


def test_the_tail_is_read_from_the_end_not_the_whole_file(tmp_path):
    path = tmp_path / "huge.log"
    with path.open("wb") as handle:
        handle.seek(8 * 1024**3)  # a sparse 8 GiB head: reading it all would take far too long
        handle.write(b"".join(f"entry {number}\n".encode() for number in range(500)))

    started = time.perf_counter()
    found, truncated = logs.tail_lines(path, 3)

    assert found == ["entry 497", "entry 498", "entry 499"]
    assert truncated is True
    assert time.perf_counter() - started < 1


def test_a_single_enormous_line_is_cut_at_the_read_limit(tmp_path):
    path = tmp_path / "wide.log"
    path.write_bytes(b"start\n" + b"y" * 10_000 + b"\nlast\n")

    found, truncated = logs.tail_lines(path, 5, block=1024, max_bytes=2048)

    assert found[-1] == "last"
    assert all(len(line) <= 2048 for line in found)
    assert truncated is True


# --- version/ ------------------------------------------------------------------------------------------


def test_version_names_the_app_runtime_and_database(viewer_client):
    body = viewer_client.get(f"{BASE}/version/").json()

    assert body["app"] == mamcrawler.__version__
    assert body["python"] == platform.python_version()
    assert body["django"] == django.get_version()
    assert body["djangorestframework"] == rest_framework.VERSION
    assert body["database"]["vendor"] == connection.vendor
    assert body["database"]["version"]


def test_the_git_commit_is_read_from_a_branch_ref(tmp_path):
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("0123456789abcdef0123456789abcdef01234567\n")

    assert selectors.git_revision(tmp_path) == {"commit": "0123456789ab", "branch": "main"}


def test_the_git_commit_is_found_in_packed_refs_and_when_detached(tmp_path):
    git = tmp_path / ".git"
    git.mkdir()
    (git / "HEAD").write_text("ref: refs/heads/release\n")
    (git / "packed-refs").write_text(
        "# pack-refs with: peeled fully-peeled sorted\n"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa refs/heads/main\n"
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb refs/heads/release\n"
    )
    assert selectors.git_revision(tmp_path)["commit"] == "bbbbbbbbbbbb"

    (git / "HEAD").write_text("cccccccccccccccccccccccccccccccccccccccc\n")
    assert selectors.git_revision(tmp_path) == {"commit": "cccccccccccc", "branch": None}


def test_outside_a_checkout_the_commit_is_null(tmp_path):
    assert selectors.git_revision(tmp_path) == {"commit": None, "branch": None}


def test_the_endpoints_are_documented_with_their_fields(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    for path in ENDPOINTS:
        operation = schema["paths"][f"{BASE}/{path}/"]["get"]
        assert "$ref" in operation["responses"]["200"]["content"]["application/json"]["schema"], path
    download_stats = schema["components"]["schemas"]["SystemDownloadStats"]
    assert {"by_status", "by_source", "imported_last_24h", "cost"} <= set(download_stats["properties"])
    logs_parameters = {parameter["name"] for parameter in schema["paths"][f"{BASE}/logs/"]["get"]["parameters"]}
    assert "lines" in logs_parameters


def test_a_free_download_that_used_a_wedge_counts_once_as_a_wedge(viewer_client):
    DownloadFactory(is_free=True, used_wedge=True)

    cost = viewer_client.get(f"{BASE}/download-stats/").json()["cost"]

    assert cost == {"free": 0, "wedge": 1, "paid": 0}
    assert Download.objects.count() == 1
