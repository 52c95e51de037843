"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server.

No browser is downloaded (``playwright install`` is never run): Playwright launches the system
Chromium through ``executable_path``. Without it the browser tests skip, unless
``REQUIRE_BROWSER=1`` (set by ``.ci/run`` and ``make screenshots``), where that is a failure.
Every test saves a full-page PNG (under ``docs/screenshots/`` with ``SAVE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.factories import UserFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
# No sandbox: CI runs as root. No background networking: this machine has no internet to phone.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000
PASSWORD = "correct-horse-battery"  # UserFactory's default password


def _binary() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        reason = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (starting it costs about a second).

    Playwright's sync API marks its event loop as running in this thread between calls, so
    Django would refuse every ORM call as "async unsafe"; the calls really are synchronous, so
    the check is lifted, but only while the browser lives (module scope keeps that short).
    """
    binary = _binary()
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def superuser(transactional_db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")


def log_in(page, username: str, password: str = PASSWORD, *, next_url: str = "/admin/"):
    """Fill in and submit the admin's real login form."""
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")


@pytest.fixture
def admin_page(page, superuser):
    """A page logged in as the superuser through /admin/login/, showing the admin index."""
    log_in(page, superuser.username)
    assert page.url.endswith("/admin/"), page.url
    return page


@pytest.fixture
def screenshot(tmp_path):
    """``screenshot(page, name)`` saves a full-page ``<name>.png``; returns its path.

    Into ``docs/screenshots/`` with ``SAVE_SCREENSHOTS=1`` (``make screenshots``), else into the
    test's temporary folder, so an ordinary ``make test`` leaves the committed PNGs alone.
    """
    folder = SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path

    def save(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
