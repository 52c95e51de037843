"""Answer ``GET /api/v1/books/`` while another connection holds the library database's write lock.

Used by ``test_sqlite_locked.py`` as ``python -m tests.faults.read_while_locked HOLD_SECONDS``
with ``DATABASE_URL`` naming a migrated SQLite file. It makes a user and an API key (used a
moment ago, so the request has no last-use to record), lets a plain ``sqlite3`` connection
take the write lock for ``HOLD_SECONDS`` — as the worker does while it imports or scans —
then sends the request through the whole stack (throttle included) and prints
``{"status": …, "seconds": …}``.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django

from tests.faults.locked_sqlite import hold_write_lock


def main(hold_seconds: float) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamcrawler.settings")
    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from mamcrawler.accounts.models import ApiKey, User
    from mamcrawler.accounts.services import api_key_create

    user = User.objects.create(username="reader", role="viewer")
    key, secret = api_key_create(user=user, name="script", scopes=["read"])
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())

    hold_write_lock(settings.DATABASES["default"]["NAME"], hold_seconds)
    started = time.monotonic()
    response = Client(HTTP_X_API_KEY=secret, raise_request_exception=False).get("/api/v1/books/")
    print(json.dumps({"status": response.status_code, "seconds": round(time.monotonic() - started, 3)}))


if __name__ == "__main__":
    main(float(sys.argv[1]))
