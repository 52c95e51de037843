"""A real qbittorrent-nox on 127.0.0.1 for integration tests (STYLE.md: real servers, not mocks).

Import the fixtures into a test module. Without qbittorrent-nox the tests skip, unless
``REQUIRE_QBITTORRENT=1`` (set by ``.ci/run``), where a missing binary is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

STARTUP_SECONDS = 30


@dataclass(frozen=True)
class QbittorrentServer:
    url: str
    save_path: Path
    pid: int
    username: str = ""
    password: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def password_hash(password: str) -> str:
    """The ``WebUI\\Password_PBKDF2`` value qBittorrent (≥ 4.2) stores for ``password``."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, 64)
    return f'"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"'


def _binary() -> str:
    binary = shutil.which("qbittorrent-nox")
    if binary is None:
        reason = "qbittorrent-nox is not installed (apt-get install qbittorrent-nox)"
        if os.environ.get("REQUIRE_QBITTORRENT") == "1":
            pytest.fail(f"{reason}, and REQUIRE_QBITTORRENT=1 forbids skipping", pytrace=False)
        pytest.skip(reason)
    return binary


def _start(root: Path, *, username: str = "", password: str = "", port: int | None = None):
    """Start qbittorrent-nox with its own profile under ``root``; yield a QbittorrentServer; kill it.

    Starting again on the same ``root`` and ``port`` is a restart: the torrents stay.
    """
    binary = _binary()
    port, listen_port = port or free_port(), free_port()
    save_path = root / "downloads"
    save_path.mkdir(parents=True, exist_ok=True)
    config = root / "profile" / "qBittorrent" / "config"
    config.mkdir(parents=True, exist_ok=True)
    auth = (
        [
            "WebUI\\LocalHostAuth=true",
            f"WebUI\\Username={username}",
            f"WebUI\\Password_PBKDF2={password_hash(password)}",
        ]
        if username
        else ["WebUI\\LocalHostAuth=false"]
    )
    # No DHT/LSD/UPnP/PeX: the tests need no network and must not touch the machine's.
    lines = [
        "[LegalNotice]",
        "Accepted=true",
        "",
        "[BitTorrent]",
        f"Session\\Port={listen_port}",
        f"Session\\DefaultSavePath={save_path}",
        "Session\\DHTEnabled=false",
        "Session\\LSDEnabled=false",
        "Session\\PeXEnabled=false",
        "",
        "[Preferences]",
        f"WebUI\\Port={port}",
        "WebUI\\Address=127.0.0.1",
        "WebUI\\HostHeaderValidation=false",
        "Connection\\UPnP=false",
        "Downloads\\SavePath=" + str(save_path),
        *auth,
        "",
    ]
    (config / "qBittorrent.conf").write_text("\n".join(lines))
    log = (root / "qbittorrent.log").open("ab")
    process = subprocess.Popen(
        [binary, f"--profile={root / 'profile'}"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"qbittorrent-nox exited with {process.returncode}; see {root / 'qbittorrent.log'}")
            try:
                # /api/v2/app/version answers 403 before login when auth is required: that still means "up".
                if requests.get(f"{url}/api/v2/app/version", timeout=1).status_code in (200, 403):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"qbittorrent-nox did not answer on {url} within {STARTUP_SECONDS} s")
            time.sleep(0.1)
        yield QbittorrentServer(url=url, save_path=save_path, pid=process.pid, username=username, password=password)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def qbittorrent_server(tmp_path_factory):
    """A qBittorrent without authentication for 127.0.0.1 (the localhost bypass)."""
    yield from _start(tmp_path_factory.mktemp("qbittorrent"))


@pytest.fixture(scope="session")
def qbittorrent_auth_server(tmp_path_factory):
    """A qBittorrent that requires a login (user ``mamcrawler``) even from 127.0.0.1."""
    yield from _start(tmp_path_factory.mktemp("qbittorrent-auth"), username="mamcrawler", password="s3cret-pass")


class RestartableQbittorrent:
    """A qbittorrent-nox of one test that can be stopped and started again on the same port and profile."""

    def __init__(self, root: Path):
        self.root, self.port, self._run = root, free_port(), None
        self.server: QbittorrentServer | None = None

    def start(self) -> QbittorrentServer:
        self._run = _start(self.root, port=self.port)
        self.server = next(self._run)
        return self.server

    def stop(self) -> None:
        if self._run is not None:
            self._run.close()  # runs the generator's finally: SIGTERM, wait, close the log
            self._run = None


@pytest.fixture
def restartable_qbittorrent(tmp_path):
    qbittorrent = RestartableQbittorrent(tmp_path / "qbittorrent")
    qbittorrent.start()
    yield qbittorrent
    qbittorrent.stop()
