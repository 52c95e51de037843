"""A fake MyAnonamouse on pytest-httpserver, answering in MAM's JSON shapes."""

from __future__ import annotations

import json

from downloads.bencode import encode

SESSION = "mam-session-cookie-1"


def configure(settings, httpserver, *, interval: float = 0.0) -> None:
    """Point the MAM settings at the fake server (no pacing wait unless ``interval``)."""
    settings.MAM_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.MAM_SESSION_ID = SESSION
    settings.MAM_MIN_INTERVAL = interval
    settings.MAM_LANGUAGES = ["1"]


def row(
    tid: int = 101,
    title: str = "The Way of Kings",
    *,
    authors=("Brandon Sanderson",),
    narrators=("Michael Kramer", "Kate Reading"),
    series=(("The Stormlight Archive", "1"),),
    filetype: str = "m4b",
    size="1.5 GiB",
    seeders: int = 25,
    lang_code: str = "ENG",
    free: int = 0,
    vip: int = 0,
    fl_vip: int = 0,
    personal_freeleech: int = 0,
    numfiles: int = 1,
) -> dict:
    """One row of ``loadSearchJSONbasic.php`` (the *_info fields are JSON strings)."""
    return {
        "id": tid,
        "title": title,
        "author_info": json.dumps({str(1000 + i): name for i, name in enumerate(authors)}),
        "narrator_info": json.dumps({str(2000 + i): name for i, name in enumerate(narrators)}),
        "series_info": json.dumps({str(3000 + i): [name, pos] for i, (name, pos) in enumerate(series)}),
        "filetype": filetype,
        "size": size,
        "seeders": seeders,
        "leechers": 1,
        "times_completed": 300,
        "added": "2023-04-01 10:00:00",
        "lang_code": lang_code,
        "free": free,
        "vip": vip,
        "fl_vip": fl_vip,
        "personal_freeleech": personal_freeleech,
        "numfiles": numfiles,
        "category": 41,
        "catname": "Audiobooks - Fantasy",
        "main_cat": 13,
        "browseflags": 0,
        "dl": f"dlhash{tid}",
    }


def search_body(*rows: dict) -> dict:
    return {"perpage": 100, "start": 0, "data": list(rows), "total": len(rows), "found": len(rows)}


NOTHING = {"error": "Nothing returned, out of 2154321"}


def account_body(**overrides) -> dict:
    """A ``jsonLoad.php?snatch_summary`` answer."""
    body = {
        "uid": 424242,
        "username": "reader",
        "ratio": 3.1416,
        "uploaded": "314.16 GiB",
        "uploaded_bytes": 337_325_425_050,
        "downloaded": "100 GiB",
        "downloaded_bytes": 107_374_182_400,
        "seedbonus": 51234.5,
        "classname": "Power User",
        "vip_until": None,
        "wedges": 3,
        "unsat": {"count": 7, "red": False, "size": 0, "limit": 50},
        "connectable": "yes",
    }
    body.update(overrides)
    return body


def torrent_bytes(name: str = "The Way of Kings") -> bytes:
    """A small single-file torrent."""
    return encode(
        {
            "announce": "https://t.myanonamouse.net/tracker.php/x/announce",
            "info": {"name": name, "length": 12345, "piece length": 16384, "pieces": b"\x01" * 20, "private": 1},
        }
    )
