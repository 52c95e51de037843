"""The account guard (SPEC §8.4)."""

import pytest

from downloads.guard import FREE, RATIO, WEDGE, AccountState, guard_check

GIB = 1024**3


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.MIN_RATIO = 1.5
    settings.UNSAT_MARGIN = 2
    settings.DAILY_DOWNLOAD_BUDGET = 10
    settings.USE_WEDGES = False


def account(**overrides):
    values = {
        "uploaded_bytes": 300 * GIB,
        "downloaded_bytes": 100 * GIB,
        "classname": "Power User",
        "unsat_count": 5,
        "unsat_limit": 50,
        "wedges": 0,
    }
    return AccountState(**{**values, **overrides})


def test_a_healthy_account_may_download_a_paid_torrent():
    decision = guard_check(account=account(), size_bytes=2 * GIB)

    assert (decision.cost, decision.allowed, decision.hold_reason) == (RATIO, True, "")


@pytest.mark.parametrize(
    ("flags", "state"),
    [
        ({"free": True}, {}),
        ({"personal_freeleech": True}, {}),
        ({}, {"site_freeleech": True}),
        ({"vip": True}, {"classname": "VIP"}),
        ({"vip": True}, {"classname": "Elite VIP"}),
    ],
)
def test_free_downloads_are_allowed_even_with_a_poor_account(flags, state):
    poor = account(uploaded_bytes=GIB, unsat_count=50, downloads_today=99, **state)

    decision = guard_check(account=poor, size_bytes=50 * GIB, **flags)

    assert (decision.cost, decision.allowed) == (FREE, True)


def test_a_vip_torrent_costs_ratio_for_an_ordinary_account():
    decision = guard_check(account=account(uploaded_bytes=GIB), size_bytes=GIB, vip=True)

    assert decision.cost == RATIO
    assert not decision.allowed


def test_the_ratio_after_the_download_must_stay_above_the_floor():
    # 112 GiB up / (99 + 1) GiB down = 1.12
    decision = guard_check(account=account(uploaded_bytes=112 * GIB, downloaded_bytes=99 * GIB), size_bytes=GIB)

    assert not decision.allowed
    assert decision.hold_reason == "ratio 1.12 below 1.5"


def test_a_new_account_without_downloads_has_no_ratio_problem():
    decision = guard_check(account=account(uploaded_bytes=0, downloaded_bytes=0), size_bytes=0)

    assert decision.allowed


def test_the_unsatisfied_margin_is_kept():
    assert guard_check(account=account(unsat_count=47, unsat_limit=50), size_bytes=GIB).allowed
    decision = guard_check(account=account(unsat_count=48, unsat_limit=50), size_bytes=GIB)

    assert not decision.allowed
    assert decision.hold_reason == "unsatisfied 48 + 1 above limit 50 − margin 2"


def test_the_daily_budget_stops_paid_downloads():
    assert guard_check(account=account(downloads_today=9), size_bytes=GIB).allowed
    decision = guard_check(account=account(downloads_today=10), size_bytes=GIB)

    assert decision.hold_reason == "daily download budget of 10 used"


def test_all_refusals_are_listed():
    decision = guard_check(account=account(uploaded_bytes=GIB, unsat_count=49, downloads_today=10), size_bytes=GIB)

    assert decision.hold_reason.count(";") == 2


def test_a_wedge_makes_a_ratio_breaking_paid_torrent_free(settings):
    settings.USE_WEDGES = True
    poor = account(uploaded_bytes=100 * GIB, wedges=2)

    decision = guard_check(account=poor, size_bytes=20 * GIB)

    assert (decision.cost, decision.allowed, decision.uses_wedge) == (WEDGE, True, True)


def test_wedges_are_never_spent_on_free_or_vip_torrents_nor_without_the_setting(settings):
    vip_account = account(uploaded_bytes=GIB, wedges=5, classname="VIP")
    settings.USE_WEDGES = True
    assert guard_check(account=vip_account, size_bytes=GIB, free=True).cost == FREE
    assert guard_check(account=vip_account, size_bytes=GIB, vip=True).cost == FREE
    assert guard_check(account=account(uploaded_bytes=GIB, wedges=0), size_bytes=GIB).allowed is False
    settings.USE_WEDGES = False
    assert guard_check(account=account(uploaded_bytes=GIB, wedges=5), size_bytes=GIB).allowed is False


def test_a_wedge_does_not_lift_the_unsatisfied_limit(settings):
    settings.USE_WEDGES = True
    decision = guard_check(account=account(uploaded_bytes=GIB, wedges=5, unsat_count=49), size_bytes=GIB)

    assert not decision.allowed
