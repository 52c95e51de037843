"""Reads behind ``/api/v1/system/``: library, gap and download figures, storage, the MAM account, versions.

Every figure comes from the database (aggregate queries, a fixed number per answer), the
filesystem or the running interpreter; nothing is a constant.
"""

from __future__ import annotations

import platform
import shutil
from datetime import timedelta
from pathlib import Path

import django
import rest_framework
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

import mamcrawler
from downloads.models import Download, DownloadSource, DownloadStatus, MamAccountSnapshot, MamSession
from library.choices import BookStatus
from library.models import Author, Book, BookFile, MissingBook, Series
from library.models_gaps import GapStatus
from library.selectors.authors import author_completion_summary
from library.selectors.metadata import metadata_status
from library.selectors.series import series_completion_summary
from library.selectors.sums import as_int, wide_sum
from mamcrawler.system import integrations

MAM_TREND_DAYS = 7
# Snapshots are taken about hourly; a week of them, at most, keeps the answer small.
MAM_TREND_POINTS = 7 * 24
GIT_SHORT = 12


def _counts(queryset, field: str, values) -> dict[str, int]:
    """``{value: rows}`` for every declared value (zero when absent), in one grouped query."""
    counts = dict.fromkeys(values, 0)
    counts.update(queryset.order_by().values_list(field).annotate(n=Count("id")))
    return counts


def system_stats() -> dict:
    """Books by status, series and authors, gaps by status, downloads by status (five queries)."""
    books = _counts(Book.objects.all(), "status", BookStatus.values)
    gaps = _counts(MissingBook.objects.all(), "status", GapStatus.values)
    downloads = _counts(Download.objects.all(), "status", DownloadStatus.values)
    return {
        "books": {"total": sum(books.values()), "by_status": books},
        "series": Series.objects.count(),
        "authors": Author.objects.count(),
        "gaps": {"total": sum(gaps.values()), "by_status": gaps},
        "downloads": {"total": sum(downloads.values()), "by_status": downloads},
    }


def library_status() -> dict:
    """Metadata completeness of the active books and completion of series and authors (library selectors)."""
    return {
        "metadata": metadata_status(threshold=settings.INCOMPLETE_THRESHOLD),
        "series": series_completion_summary(),
        "authors": author_completion_summary(),
    }


def download_stats(*, now=None) -> dict:
    """Downloads by status and source, sizes, recent imports, failures, and what they cost (one query).

    An import's time is the download's last status change (``status_changed_at``, else
    ``updated_at`` for rows older than that field).  Cost: ``free`` (freeleech or VIP, no
    ratio), ``wedge`` (a wedge made it free) or ``paid`` (counted against the ratio).
    """
    now = now or timezone.now()
    imported = Q(status=DownloadStatus.IMPORTED)
    changed = Coalesce("status_changed_at", "updated_at")
    wedge = Q(used_wedge=True)
    free = Q(used_wedge=False) & (Q(is_free=True) | Q(is_vip=True))
    aggregates = {
        "total": Count("id"),
        "size": Sum("size_bytes"),
        "imported_size": Sum("size_bytes", filter=imported),
        "imported_24h": Count("id", filter=imported & Q(changed_at__gte=now - timedelta(hours=24))),
        "imported_7d": Count("id", filter=imported & Q(changed_at__gte=now - timedelta(days=7))),
        "free": Count("id", filter=free),
        "wedge": Count("id", filter=wedge),
        "paid": Count("id", filter=~wedge & ~free),
        **{f"status_{value}": Count("id", filter=Q(status=value)) for value in DownloadStatus.values},
        **{f"source_{value}": Count("id", filter=Q(source=value)) for value in DownloadSource.values},
    }
    row = Download.objects.annotate(changed_at=changed).aggregate(**aggregates)
    by_status = {value: row[f"status_{value}"] for value in DownloadStatus.values}
    return {
        "total": row["total"],
        "by_status": by_status,
        "by_source": {value: row[f"source_{value}"] for value in DownloadSource.values},
        "total_size_bytes": row["size"] or 0,
        "imported_size_bytes": row["imported_size"] or 0,
        "imported_last_24h": row["imported_24h"],
        "imported_last_7d": row["imported_7d"],
        "failed": by_status[DownloadStatus.FAILED],
        "abandoned": by_status[DownloadStatus.ABANDONED],
        "cost": {"free": row["free"], "wedge": row["wedge"], "paid": row["paid"]},
    }


# --- storage ---------------------------------------------------------------------------------------


def _library_by_format() -> dict:
    """Bytes of the library's files per format (``BookFile``), and of active books per format (``Book``)."""
    files = {
        (fmt or "unknown"): {"files": n, "size_bytes": as_int(size)}
        for fmt, n, size in BookFile.objects.order_by()
        .values_list("format")
        .annotate(n=Count("id"), size=wide_sum("size_bytes"))
        .order_by("format")
    }
    books = {
        (fmt or "unknown"): {"books": n, "size_bytes": as_int(size)}
        for fmt, n, size in Book.objects.filter(status=BookStatus.ACTIVE)
        .order_by()
        .values_list("format")
        .annotate(n=Count("id"), size=wide_sum("size_bytes"))
        .order_by("format")
    }
    return {
        "files_by_format": files,
        "files_total_bytes": sum(item["size_bytes"] for item in files.values()),
        "books_by_format": books,
        "books_total_bytes": sum(item["size_bytes"] for item in books.values()),
    }


def _disk(root: str) -> dict:
    """Total, used and free bytes of the filesystem holding ``root``; nulls and a reason when it cannot be read."""
    empty = {"path": root or None, "total_bytes": None, "used_bytes": None, "free_bytes": None}
    if not root:
        return {**empty, "reason": "LIBRARY_ROOT is not set."}
    path = Path(root)
    if not path.is_dir():
        return {**empty, "reason": "LIBRARY_ROOT does not exist or is not a directory."}
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return {**empty, "reason": f"Cannot read the disk usage ({type(exc).__name__})."}
    return {
        "path": str(path),
        "total_bytes": usage.total,
        "used_bytes": usage.used,
        "free_bytes": usage.free,
        "reason": None,
    }


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def database_size() -> dict:
    """The database's size: the SQLite file (plus its -wal), or ``pg_database_size`` on PostgreSQL."""
    vendor = connection.vendor
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return {"vendor": vendor, "size_bytes": int(cursor.fetchone()[0]), "wal_bytes": None, "method": "pg"}
    if vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        path = Path(name)
        if not connection.is_in_memory_db() and path.is_file():
            main, wal = _file_size(path), _file_size(Path(f"{name}-wal"))
            return {"vendor": vendor, "size_bytes": main + wal, "wal_bytes": wal, "method": "file"}
        # An in-memory database (the test suite's) has no file: ask SQLite for its pages.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            size = pages * cursor.fetchone()[0]
        return {"vendor": vendor, "size_bytes": size, "wal_bytes": None, "method": "pages"}
    return {"vendor": vendor, "size_bytes": None, "wal_bytes": None, "method": None}


def storage_usage() -> dict:
    """The library's stored sizes by format, the free space where it lives, and the database size."""
    return {
        "library": _library_by_format(),
        "disk": _disk(settings.LIBRARY_ROOT),
        "database": database_size(),
    }


# --- MAM account ----------------------------------------------------------------------------------


def mam_account(*, now=None) -> dict:
    """The newest account snapshot, the ratio trend of the last week (oldest first), and the session state.

    The session's cookie is never part of the answer.
    """
    now = now or timezone.now()
    since = now - timedelta(days=MAM_TREND_DAYS)
    latest = MamAccountSnapshot.objects.order_by("-taken_at", "-pk").first()
    recent = list(
        MamAccountSnapshot.objects.filter(taken_at__gte=since)
        .order_by("-taken_at", "-pk")
        .values("taken_at", "ratio", "uploaded_bytes", "downloaded_bytes", "seedbonus")[:MAM_TREND_POINTS]
    )
    recent.reverse()
    session = MamSession.objects.filter(pk=MamSession.SINGLETON_ID).only("expired", "last_error", "updated_at").first()
    change = None
    if len(recent) >= 2 and recent[0]["ratio"] is not None and recent[-1]["ratio"] is not None:
        change = recent[-1]["ratio"] - recent[0]["ratio"]
    return {
        "configured": integrations.is_configured("mam"),
        "latest": latest,
        "site_freeleech": latest.site_freeleech if latest else None,
        "trend_days": MAM_TREND_DAYS,
        "trend": recent,
        "ratio_change": change,
        "session": {
            "exists": session is not None,
            "expired": session.expired if session else False,
            "last_error": (session.last_error or None) if session else None,
            "updated_at": session.updated_at if session else None,
        },
    }


# --- versions --------------------------------------------------------------------------------------


def _database_version() -> str | None:
    vendor = connection.vendor
    if vendor == "sqlite":
        return connection.Database.sqlite_version
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT VERSION()")
        row = cursor.fetchone()
    return str(row[0]).split(" ")[0] if row else None


def _git_dir(base: Path) -> Path | None:
    dot_git = base / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():  # a worktree or submodule: ".git" names the real directory
        text = dot_git.read_text(errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else (base / target).resolve()
    return None


def _git_ref(git_dir: Path, ref: str) -> str | None:
    loose = git_dir / ref
    if loose.is_file():
        return loose.read_text().strip() or None
    # A worktree keeps its refs in the main repository ("commondir"), packed or loose.
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
        if (common / ref).is_file():
            return (common / ref).read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(errors="replace").splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and not line.startswith(("#", "^")):
                return sha
    return None


def git_revision(base: Path | None = None) -> dict:
    """The checked-out commit (short) and branch, read from ``.git`` files; nulls outside a checkout."""
    git_dir = _git_dir(Path(base or settings.BASE_DIR))
    if git_dir is None:
        return {"commit": None, "branch": None}
    try:
        head = (git_dir / "HEAD").read_text().strip()
        if head.startswith("ref:"):
            ref = head.removeprefix("ref:").strip()
            sha, branch = _git_ref(git_dir, ref), ref.removeprefix("refs/heads/")
        else:
            sha, branch = head, None
    except OSError:
        return {"commit": None, "branch": None}
    return {"commit": sha[:GIT_SHORT] if sha else None, "branch": branch}


def version_info() -> dict:
    """Versions of the application, its runtime and its database, and the git commit if any."""
    return {
        "app": mamcrawler.__version__,
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "database": {"vendor": connection.vendor, "version": _database_version()},
        "git": git_revision(),
        "environment": settings.DJANGO_ENV,
    }
