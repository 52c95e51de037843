"""Helpers for the downloads and acquisition API tests: the fake MAM's answers, torrents, gaps, accounts."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from downloads.bencode import encode
from downloads.bencode import info_hash as bencode_info_hash
from downloads.models import MamAccountSnapshot
from library.models import Author, MissingBook, Series
from tests.downloads import mam_fake
from tests.factories import AuthorFactory, SeriesFactory

SEARCH = "/tor/js/loadSearchJSONbasic.php"
GIB = 1024**3


def serve_torrent(httpserver, tid: int, data: bytes) -> None:
    """MAM answers ``/tor/download.php?tid=<tid>`` (and ``/tor/download.php/dlhash<tid>``) with ``data``."""
    httpserver.expect_request("/tor/download.php", query_string=f"tid={tid}").respond_with_data(
        data, content_type="application/x-bittorrent"
    )
    httpserver.expect_request(f"/tor/download.php/dlhash{tid}").respond_with_data(
        data, content_type="application/x-bittorrent"
    )


def serve_search(httpserver, *rows: dict) -> None:
    httpserver.expect_request(SEARCH, method="POST").respond_with_json(mam_fake.search_body(*rows))


def plain_torrent(name: str = "A Public Domain Book", *, tracker: str = "http://tracker.example.org/announce") -> bytes:
    """A torrent that announces somewhere other than MAM (the account guard does not apply)."""
    return encode(
        {
            "announce": tracker,
            "info": {"name": name, "length": 4096, "piece length": 16384, "pieces": b"\x02" * 20},
        }
    )


def hash_of(data: bytes) -> str:
    return bencode_info_hash(data)


def account(*, uploaded_gib: float, downloaded_gib: float, unsat_count: int = 3, unsat_limit: int = 50):
    """The latest MAM account snapshot the guard reads."""
    uploaded, downloaded = int(uploaded_gib * GIB), int(downloaded_gib * GIB)
    return MamAccountSnapshot.objects.create(
        username="reader",
        uploaded_bytes=uploaded,
        downloaded_bytes=downloaded,
        ratio=Decimal(uploaded) / Decimal(downloaded),
        classname="Power User",
        unsat_count=unsat_count,
        unsat_limit=unsat_limit,
    )


def healthy_account():
    return account(uploaded_gib=500, downloaded_gib=100)


def low_ratio_account():
    """Ratio 1.1 now (below MIN_RATIO 1.5), so a paid torrent is held."""
    return account(uploaded_gib=110, downloaded_gib=100)


def stormlight_gap(*, status: str = "wanted", title: str = "The Way of Kings", position: str = "1") -> MissingBook:
    """A series gap that the default ``mam_fake.row()`` matches."""
    author = Author.objects.filter(name="Brandon Sanderson").first() or AuthorFactory(name="Brandon Sanderson")
    series = Series.objects.filter(name="The Stormlight Archive").first() or SeriesFactory(
        name="The Stormlight Archive", primary_author=author
    )
    gap = MissingBook.objects.create(
        title=title,
        title_key=title.lower(),
        reason="series_gap",
        status=status,
        series=series,
        primary_author=author,
        author_names=["Brandon Sanderson"],
        position=Decimal(position),
        position_label=position,
        last_seen=timezone.now(),
    )
    gap.authors.set([author])
    return gap
