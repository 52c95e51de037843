"""The gaps API (SPEC §4 Gaps, §4.1 MissingBook): list, filters, ordering, changes, analysis runs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from library.models import MissingBook
from scheduler.models import JobRun
from tests.factories import AuthorFactory, BookFactory, SeriesFactory
from tests.library.gaps_fake import install, member

pytestmark = pytest.mark.django_db

URL = "/api/v1/gaps/"
REPRESENTATION = {
    "id",
    "title",
    "authors",
    "series",
    "position",
    "position_label",
    "reason",
    "status",
    "priority",
    "identifiers",
    "first_seen",
    "last_seen",
    "best_candidate",
    "hold_reason",
    "download",
    "resolved_book",
}


@pytest.fixture
def fake_registry(monkeypatch):
    return install(monkeypatch)


@pytest.fixture
def author():
    return AuthorFactory(name="Brandon Sanderson")


@pytest.fixture
def series(author):
    return SeriesFactory(name="The Stormlight Archive", primary_author=author)


def make_gap(*, series=None, author=None, position=None, linked=(), **fields):
    values = {
        "title": "A Missing Book",
        "reason": "series_gap" if series is not None else "author_gap",
        "last_seen": timezone.now(),
        **fields,
    }
    gap = MissingBook.objects.create(
        series=series,
        primary_author=author or (series.primary_author if series else None),
        position=None if position is None else Decimal(position),
        position_label="" if position is None else str(position),
        title_key=values["title"].lower(),
        **values,
    )
    gap.authors.set(linked)
    return gap


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# --- representation --------------------------------------------------------------------------------


def test_a_gap_has_the_documented_representation(viewer_client, series, author):
    gap = make_gap(
        series=series,
        position="2.5",
        title="Edgedancer",
        linked=[author],
        isbn="9781250166548",
        identifiers={"hardcover": "386450"},
        priority=3,
    )

    body = viewer_client.get(f"{URL}{gap.id}/").json()

    assert set(body) >= REPRESENTATION
    assert body["authors"] == [{"id": author.id, "name": "Brandon Sanderson"}]
    assert body["series"] == {"id": series.id, "name": "The Stormlight Archive"}
    assert (body["position"], body["position_label"]) == ("2.5", "2.5")
    assert (body["reason"], body["status"], body["priority"]) == ("series_gap", "identified", 3)
    assert body["identifiers"] == {"isbn": "9781250166548", "hardcover": "386450"}
    assert (body["best_candidate"], body["hold_reason"], body["download"], body["resolved_book"]) == (
        None,
        None,
        None,
        None,
    )
    assert body["first_seen"].endswith("Z")


def test_an_author_gap_without_linked_authors_shows_the_providers_names(viewer_client):
    gap = make_gap(title="Elantris", author_names=["Brandon Sanderson"])

    body = viewer_client.get(f"{URL}{gap.id}/").json()

    assert body["authors"] == [{"id": None, "name": "Brandon Sanderson"}]
    assert (body["series"], body["position"]) == (None, None)


def test_an_unknown_gap_is_404_and_a_bad_id_422(viewer_client):
    assert viewer_client.get(f"{URL}999999/").status_code == 404
    assert viewer_client.get(f"{URL}abc/").status_code == 422


# --- filters, ordering, search -----------------------------------------------------------------------


@pytest.fixture
def assorted(series, author):
    other_author = AuthorFactory(name="Robert Jordan")
    other_series = SeriesFactory(name="The Wheel of Time", primary_author=other_author)
    return {
        "three": make_gap(series=series, position="3", title="Oathbringer", priority=1),
        "novella": make_gap(series=series, position="2.5", title="Edgedancer", priority=3, status="ignored"),
        "wot": make_gap(
            series=other_series,
            position="14",
            title="A Memory of Light",
            linked=[other_author, author],
            best_candidate={"mam_torrent_id": 1, "cost": "free"},
            status="found",
        ),
        "elantris": make_gap(
            author=author, title="Elantris", priority=2, best_candidate={"mam_torrent_id": 2, "cost": "ratio"}
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"reason": "author_gap"}, ["elantris"]),
        ({"reason": ["series_gap", "author_gap"]}, ["three", "novella", "wot", "elantris"]),
        ({"status": ["ignored", "found"]}, ["novella", "wot"]),
        ({"priority": 3}, ["novella"]),
        ({"available": "true"}, ["wot", "elantris"]),
        ({"available": "false"}, ["three", "novella"]),
        ({"free": "true"}, ["wot"]),
        ({"free": "false"}, ["three", "novella", "elantris"]),
        ({"search": "oath"}, ["three"]),
    ],
)
def test_the_list_filters(viewer_client, assorted, params, expected):
    found = ids(viewer_client.get(URL, params))
    assert sorted(found) == sorted(assorted[name].id for name in expected)


def test_filters_by_series_and_by_author_primary_or_linked(viewer_client, assorted, series, author):
    assert sorted(ids(viewer_client.get(URL, {"series": series.id}))) == sorted(
        [assorted["three"].id, assorted["novella"].id]
    )
    by_author = ids(viewer_client.get(URL, {"author": author.id}))
    assert sorted(by_author) == sorted(gap.id for gap in assorted.values())


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("priority", ["three", "wot", "elantris", "novella"]),
        ("-position", ["wot", "three", "novella", "elantris"]),
        ("series", ["three", "novella", "wot", "elantris"]),
        ("first_seen", ["three", "novella", "wot", "elantris"]),
        ("-first_seen", ["elantris", "wot", "novella", "three"]),
    ],
)
def test_the_list_orders_by_the_allowed_fields(viewer_client, assorted, ordering, expected):
    base = timezone.now() - timedelta(days=10)
    for offset, name in enumerate(["three", "novella", "wot", "elantris"]):
        MissingBook.objects.filter(pk=assorted[name].pk).update(first_seen=base + timedelta(hours=offset))
    assert ids(viewer_client.get(URL, {"ordering": ordering})) == [assorted[name].id for name in expected]


def test_the_default_order_is_priority_then_series_and_position(viewer_client, series):
    second = make_gap(series=series, position="2", priority=1)
    first = make_gap(series=series, position="1", priority=1)
    low = make_gap(series=series, position="0.5", priority=3)

    assert ids(viewer_client.get(URL)) == [first.id, second.id, low.id]


@pytest.mark.parametrize(
    "params",
    [
        {"priority": 4},
        {"priority": "high"},
        {"status": "lost"},
        {"reason": "whim"},
        {"ordering": "title"},
        {"series": "x"},
    ],
)
def test_bad_filters_are_422_at_the_query(viewer_client, params):
    response = viewer_client.get(URL, params)
    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"][0] == "query"


# --- changes ----------------------------------------------------------------------------------------


def test_an_editor_changes_the_priority_and_ignores_a_gap(editor_client, series):
    series.last_checked = timezone.now()
    series.save()
    gap = make_gap(series=series, position="3")

    response = editor_client.patch(f"{URL}{gap.id}/", {"priority": 3, "status": "ignored"})

    assert response.status_code == 200, response.json()
    assert (response.json()["priority"], response.json()["status"]) == (3, "ignored")
    gap.refresh_from_db()
    assert (gap.priority, gap.status) == (3, "ignored")
    series.refresh_from_db()
    assert series.books_missing == 0

    assert editor_client.patch(f"{URL}{gap.id}/", {"status": "wanted"}).json()["status"] == "wanted"
    series.refresh_from_db()
    assert series.books_missing == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "completed"}, "status"),
        ({"status": "found"}, "status"),
        ({"status": "identified"}, "status"),
        ({"priority": 0}, "priority"),
        ({"priority": 4}, "priority"),
    ],
)
def test_only_ignored_or_wanted_and_priorities_1_to_3_are_accepted(editor_client, series, body, field):
    gap = make_gap(series=series, position="3")

    response = editor_client.patch(f"{URL}{gap.id}/", body)

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == ["body", field]
    gap.refresh_from_db()
    assert (gap.status, gap.priority) == ("identified", 2)


def test_a_completed_gap_keeps_its_status(editor_client, series):
    book = BookFactory()
    gap = make_gap(series=series, position="3", status="completed", resolved_book=book)

    response = editor_client.patch(f"{URL}{gap.id}/", {"status": "wanted"})

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert editor_client.patch(f"{URL}{gap.id}/", {"priority": 1}).status_code == 200


def test_gaps_are_not_replaced_or_created_or_deleted_through_the_api(editor_client, series):
    gap = make_gap(series=series, position="3")

    assert editor_client.put(f"{URL}{gap.id}/", {"priority": 1}).status_code == 405
    assert editor_client.post(URL, {"title": "x"}).status_code == 405
    assert editor_client.delete(f"{URL}{gap.id}/").status_code == 405


def test_viewers_read_but_do_not_write(viewer_client, series):
    gap = make_gap(series=series, position="3")

    assert viewer_client.get(URL).status_code == 200
    assert viewer_client.get(f"{URL}stats/").status_code == 200
    assert viewer_client.patch(f"{URL}{gap.id}/", {"priority": 1}).status_code == 403
    assert viewer_client.post(f"{URL}analyze/", {}).status_code == 403


def test_anonymous_requests_are_401(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(f"{URL}analyze/", {}).status_code == 401


# --- analysis runs -----------------------------------------------------------------------------------


def test_analyze_queues_a_run_and_answers_202(editor_client, editor_user):
    response = editor_client.post(f"{URL}analyze/", {}, HTTP_X_REQUEST_ID="req-gaps-1")

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["job"], body["status"], body["trigger"], body["request_id"]) == (
        "gap_analysis",
        "queued",
        "api",
        "req-gaps-1",
    )
    assert body["params"] == {}
    assert JobRun.objects.get(pk=body["id"]).requested_by == editor_user


def test_analyze_while_a_run_is_queued_is_409(editor_client):
    assert editor_client.post(f"{URL}analyze/", {}).status_code == 202

    response = editor_client.post(f"{URL}analyze/", {})

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ({"scope": "series", "full": True}, {"author_ids": [], "full": True}),
        ({"scope": "authors"}, {"series_ids": []}),
    ],
)
def test_analyze_turns_the_scope_into_job_params(editor_client, body, params):
    response = editor_client.post(f"{URL}analyze/", body)

    assert response.status_code == 202
    assert response.json()["params"] == params


def test_analyze_names_series_and_authors_by_id(editor_client, series, author):
    body = editor_client.post(f"{URL}analyze/", {"scope": "series", "series_ids": [series.id, series.id]}).json()
    assert body["params"] == {"series_ids": [series.id], "author_ids": []}

    JobRun.objects.all().delete()
    body = editor_client.post(f"{URL}analyze/", {"scope": "authors", "author_ids": [author.id]}).json()
    assert body["params"] == {"series_ids": [], "author_ids": [author.id]}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"scope": "everything"}, ["body", "scope"]),
        ({"scope": "series", "series_ids": [999999]}, ["body", "series_ids"]),
        ({"scope": "all", "series_ids": [1]}, ["body", "series_ids"]),
        ({"scope": "series", "author_ids": [1]}, ["body", "author_ids"]),
        ({"series_ids": ["x"], "scope": "series"}, ["body", "series_ids", 0]),
        ({"full": "perhaps"}, ["body", "full"]),
    ],
)
def test_analyze_refuses_bad_input_with_422(editor_client, body, loc):
    response = editor_client.post(f"{URL}analyze/", body)

    assert response.status_code == 422
    assert response.json()["context"]["validation_errors"][0]["loc"] == loc
    assert not JobRun.objects.exists()


def test_analyze_with_wait_runs_inline_and_answers_200(editor_client, fake_registry, series):
    fake_registry.add_series("The Stormlight Archive", [member(1), member(2)])
    series.monitored = True
    series.save()

    response = editor_client.post(f"{URL}analyze/?wait=true", {"scope": "series"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["summary"]["gaps_new"] == 2
    assert body["summary"]["series_checked"] == 1
    assert MissingBook.objects.count() == 2


def test_the_report_shows_the_latest_run_and_the_top_series(viewer_client, editor_client, fake_registry, author):
    assert viewer_client.get(f"{URL}report/").json()["run"] is None
    big = SeriesFactory(name="Big", primary_author=author, monitored=True)
    small = SeriesFactory(name="Small", primary_author=author, monitored=True)
    fake_registry.add_series("Big", [member(number) for number in range(1, 4)])
    fake_registry.add_series("Small", [member(1)])
    editor_client.post(f"{URL}analyze/?wait=true", {})

    body = viewer_client.get(f"{URL}report/").json()

    run = JobRun.objects.get(job="gap_analysis")
    assert body["run"]["id"] == run.id
    assert body["duration_seconds"] == run.duration_seconds
    assert body["summary"]["gaps_new"] == 4
    assert body["by_reason"] == {"series_gap": 4, "author_gap": 0, "wishlist": 0}
    assert body["by_status"]["identified"] == 4
    assert body["top_series"] == [
        {"id": big.id, "name": "Big", "missing": 3},
        {"id": small.id, "name": "Small", "missing": 1},
    ]


def test_the_history_lists_gap_analysis_runs_only(viewer_client):
    older = JobRun.objects.create(job="gap_analysis", trigger="schedule", status="succeeded")
    newer = JobRun.objects.create(job="gap_analysis", trigger="api", status="failed")
    JobRun.objects.create(job="cleanup", trigger="schedule")

    response = viewer_client.get(f"{URL}history/", {"limit": 1})

    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.id]
    assert viewer_client.get(body["next"]).json()["results"][0]["id"] == older.id


def test_stats_count_by_reason_status_and_priority(viewer_client, assorted):
    body = viewer_client.get(f"{URL}stats/").json()

    assert body["total"] == 4
    assert body["missing"] == 3  # the ignored novella is not missing
    assert (body["available"], body["free"]) == (2, 1)
    assert body["by_reason"] == {"series_gap": 3, "author_gap": 1, "wishlist": 0}
    assert body["by_status"]["ignored"] == 1
    assert body["by_status"]["found"] == 1
    assert body["by_priority"] == {"high": 1, "normal": 2, "low": 0}


# --- series and author pages --------------------------------------------------------------------------


def test_series_gaps_are_listed_in_reading_order(viewer_client, series):
    ten = make_gap(series=series, position="10")
    two = make_gap(series=series, position="2", priority=3)
    make_gap(series=SeriesFactory(), position="1")

    response = viewer_client.get(f"/api/v1/series/{series.id}/gaps/")

    assert ids(response) == [two.id, ten.id]
    assert response.json()["count"] == 2
    assert viewer_client.get("/api/v1/series/999999/gaps/").status_code == 404


def test_author_gaps_include_linked_ones_most_wanted_first(viewer_client, assorted, author):
    response = viewer_client.get(f"/api/v1/authors/{author.id}/gaps/")

    assert ids(response) == [assorted[name].id for name in ("three", "wot", "elantris", "novella")]
    assert viewer_client.get("/api/v1/authors/999999/gaps/").status_code == 404
