"""Candidate ranking (SPEC §8.2)."""

import pytest

from downloads.guard import AccountState
from downloads.integrations.mam import MamTorrent
from downloads.ranking import Wanted, rank_candidates
from tests.downloads import mam_fake

GIB = 1024**3
HEALTHY = AccountState(uploaded_bytes=500 * GIB, downloaded_bytes=100 * GIB, unsat_count=1, unsat_limit=50)
WAY_OF_KINGS = Wanted(
    title="The Way of Kings",
    authors=["Brandon Sanderson"],
    series="The Stormlight Archive",
    position="1",
    language="en",
)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.MATCH_THRESHOLD = 70
    settings.MAM_MIN_SEEDERS = 1
    settings.PREFERRED_FORMATS = ["m4b", "mp3", "flac"]


def torrent(tid=101, title="The Way of Kings", **kwargs):
    return MamTorrent.from_row(mam_fake.row(tid, title, **kwargs))


def rank(torrents, wanted=WAY_OF_KINGS, **kwargs):
    return rank_candidates(wanted=wanted, torrents=torrents, account=HEALTHY, **kwargs)


def test_the_exact_match_wins_and_carries_its_reasons():
    ranked = rank(
        [
            torrent(1, "Words of Radiance", series=(("The Stormlight Archive", "2"),)),
            torrent(2, "The Way of Kings"),
            torrent(3, "The Way of Kings (Abridged)"),
        ]
    )

    best = ranked[0]
    assert best.mam_torrent_id == 2
    assert best.reasons == {"title": 50, "author": 25, "series": 10, "position": 5, "format": 5}
    assert best.score == 95
    assert (best.position, best.format, best.cost, best.allowed) == ("1", "m4b", "ratio", True)
    assert [c.mam_torrent_id for c in ranked] == [2]  # abridged and book 2 fall below the threshold


def test_a_wrong_author_loses():
    ranked = rank([torrent(1, authors=("Someone Else",)), torrent(2)], include_rejected=True)

    assert [c.mam_torrent_id for c in ranked] == [2, 1]
    assert ranked[1].reasons["author"] == -25
    assert ranked[1].rejected.startswith("score ")


def test_a_bundle_is_rejected_for_a_single_book_but_accepted_for_an_omnibus_gap():
    box = torrent(7, "The Stormlight Archive Books 1-4 Box Set", series=(("The Stormlight Archive", "1-4"),))
    many_files = torrent(8, numfiles=400)

    single = rank([box, many_files], include_rejected=True)
    assert all(c.is_bundle and "bundle" in c.rejected and not c.allowed for c in single)
    assert rank([box, many_files]) == []

    omnibus = Wanted(title="The Stormlight Archive Books 1-4 Box Set", authors=["Brandon Sanderson"], is_omnibus=True)
    assert [c.mam_torrent_id for c in rank([box], wanted=omnibus)] == [7]


def test_too_few_seeders_are_rejected(settings):
    settings.MAM_MIN_SEEDERS = 3

    ranked = rank([torrent(seeders=2)], include_rejected=True)

    assert ranked[0].rejected == "2 seeder(s), below 3"
    assert ranked[0].allowed is False


def test_the_preferred_format_breaks_an_otherwise_equal_match():
    ranked = rank([torrent(1, filetype="flac"), torrent(2, filetype="mp3"), torrent(3, filetype="m4b")])

    assert [(c.mam_torrent_id, c.format, c.reasons["format"]) for c in ranked] == [
        (3, "m4b", 5),
        (2, "mp3", 3),
        (1, "flac", 1),
    ]


def test_ties_prefer_free_then_seeders_then_the_lower_id():
    ranked = rank([torrent(5, seeders=10), torrent(4, seeders=10), torrent(6, seeders=50), torrent(9, free=1)])

    assert [c.mam_torrent_id for c in ranked] == [9, 6, 4, 5]
    assert ranked[0].is_free and ranked[0].cost == "free"


def test_language_and_narrator_count_when_asked():
    wanted = Wanted(title="The Way of Kings", authors=["Brandon Sanderson"], narrator="Kate Reading", language="en")

    ranked = rank([torrent(1, lang_code="GER"), torrent(2)], wanted=wanted, include_rejected=True)

    assert ranked[0].mam_torrent_id == 2
    assert ranked[0].reasons["narrator"] == 5
    assert ranked[1].reasons["language"] == -30


def test_the_guard_holds_a_paid_candidate_with_its_reason():
    poor = AccountState(uploaded_bytes=GIB, downloaded_bytes=GIB, unsat_limit=50)

    (candidate,) = rank_candidates(wanted=WAY_OF_KINGS, torrents=[torrent()], account=poor)

    assert candidate.allowed is False
    assert candidate.hold_reason.startswith("ratio 0.")
    assert candidate.as_dict()["hold_reason"] == candidate.hold_reason


def test_a_search_without_an_author_does_not_need_author_points():
    ranked = rank(
        [torrent(1, "The Way of Kings"), torrent(2, "Cooking for Kings and Queens")],
        wanted=Wanted(title="The Way of Kings"),
        include_rejected=True,
    )

    assert ranked[0].mam_torrent_id == 1 and not ranked[0].rejected and "author" not in ranked[0].reasons
    assert ranked[1].rejected.startswith("score") and ranked[1].rejected.endswith("below 45")
