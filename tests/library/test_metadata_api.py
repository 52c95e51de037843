"""``/api/v1/metadata/`` and the metadata actions of ``/api/v1/books/`` (SPEC §4 Metadata)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import Author, Book, MetadataCorrection, ProviderCache
from library.services.books import book_lock_fields, book_update
from library.services.metadata import book_correct_metadata
from scheduler.models import JobRun
from tests.factories import BookFactory, UserFactory
from tests.library.metadata_fakes import install, record, sparse_book

pytestmark = pytest.mark.django_db

API = "/api/v1/metadata/"
CORRECTIONS = f"{API}corrections/"


@pytest.fixture
def providers(monkeypatch):
    return install(monkeypatch)


@pytest.fixture
def corrected(providers):
    """A sparse book corrected once by "openlibrary" (every empty field filled)."""
    book = sparse_book()
    providers.records = [record(isbn="", asin="")]
    book_correct_metadata(book=book)
    return book


# --- corrections -----------------------------------------------------------------------------


def test_corrections_are_listed_in_the_documented_shape(viewer_client, corrected):
    body = viewer_client.get(CORRECTIONS, {"field": "publisher"}).json()

    assert body["count"] == 1
    row = body["results"][0]
    assert set(row) >= {
        "id",
        "book",
        "field",
        "old_value",
        "new_value",
        "source",
        "reason",
        "confidence",
        "created_at",
        "created_by",
        "reverted_at",
    }
    assert row["book"] == corrected.pk and row["book_title"] == "The Way of Kings (Unabridged)"
    assert (row["old_value"], row["new_value"], row["source"]) == ("", "Tor Books", "openlibrary")
    assert row["created_by"] is None and row["reverted_at"] is None
    assert row["created_at"].endswith("Z")
    assert viewer_client.get(f"{CORRECTIONS}{row['id']}/").json() == row


def test_a_job_is_named_as_the_author_of_its_corrections(viewer_client, providers):
    run = JobRun.objects.create(job="metadata_refresh", trigger="api")
    providers.records = [record()]
    book_correct_metadata(book=sparse_book(), job_run=run)

    rows = viewer_client.get(CORRECTIONS).json()["results"]

    assert {row["created_by"] for row in rows} == {f"job:{run.pk}"}


def test_corrections_filter_by_book_field_source_date_and_reverted(viewer_client, corrected, editor_user):
    other = BookFactory()
    book_update(book=other, fields={"publisher": "Hand Made"}, user=editor_user)
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")
    MetadataCorrection.objects.filter(pk=publisher.pk).update(reverted_at=timezone.now())

    def ids(**params):
        return {row["id"] for row in viewer_client.get(CORRECTIONS, params).json()["results"]}

    everything = ids()
    assert ids(book=other.pk) == set(MetadataCorrection.objects.filter(book=other).values_list("id", flat=True))
    assert ids(source="manual") == ids(book=other.pk)
    assert ids(reverted="true") == {publisher.pk}
    assert ids(reverted="false") == everything - {publisher.pk}
    assert ids(created_after=(timezone.now() + timedelta(minutes=1)).isoformat()) == set()
    assert ids(created_before=(timezone.now() + timedelta(minutes=1)).isoformat()) == everything
    ordered = [row["id"] for row in viewer_client.get(CORRECTIONS, {"ordering": "created_at"}).json()["results"]]
    assert ordered == sorted(everything)
    assert viewer_client.get(CORRECTIONS, {"source": "nowhere"}).status_code == 422


def test_a_persons_api_edit_is_in_the_books_history(editor_client, viewer_client):
    created = editor_client.post("/api/v1/books/", {"title": "Elantris", "authors": ["Brandon Sanderson"]}).json()
    editor_client.patch(f"/api/v1/books/{created['id']}/", {"publisher": "Tor", "narrators": ["Jack Garrett"]})

    body = viewer_client.get(f"/api/v1/books/{created['id']}/metadata-history/").json()

    rows = {(row["field"], row["reason"]): row for row in body["results"]}
    assert body["count"] == len(rows) == 4
    assert rows[("publisher", "edited")]["old_value"] == ""
    assert rows[("publisher", "edited")]["new_value"] == "Tor"
    assert rows[("narrators", "edited")]["new_value"] == ["Jack Garrett"]
    assert rows[("title", "created")]["old_value"] is None
    assert rows[("authors", "created")]["new_value"] == ["Brandon Sanderson"]
    assert {row["created_by"] for row in body["results"]} == {"editor"}
    assert {row["source"] for row in body["results"]} == {"manual"}
    assert Book.objects.get().metadata_sources["publisher"]["source"] == "manual"


def test_the_history_of_an_unknown_book_is_404(viewer_client):
    assert viewer_client.get("/api/v1/books/999/metadata-history/").status_code == 404


def test_revert_restores_the_value_and_answers_both_corrections(editor_client, corrected):
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")

    response = editor_client.post(f"{CORRECTIONS}{publisher.pk}/revert/", {})

    assert response.status_code == 200
    body = response.json()
    assert body["reverted"]["id"] == publisher.pk and body["reverted"]["reverted_at"]
    assert body["reverted"]["reverted_by"] == "editor"
    assert body["correction"]["reverts"] == publisher.pk
    assert body["correction"]["created_by"] == "editor"
    assert body["correction"]["reason"] == f"revert of #{publisher.pk}"
    assert Book.objects.get().publisher == ""


def test_revert_of_a_field_changed_since_is_409_unless_forced(editor_client, corrected):
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")
    editor_client.patch(f"/api/v1/books/{corrected.pk}/", {"publisher": "Changed Since"})

    refused = editor_client.post(f"{CORRECTIONS}{publisher.pk}/revert/", {})

    assert refused.status_code == 409
    assert refused.json()["error"] == "conflict"
    assert Book.objects.get().publisher == "Changed Since"
    forced = editor_client.post(f"{CORRECTIONS}{publisher.pk}/revert/", {"force": True})
    assert forced.status_code == 200
    assert Book.objects.get().publisher == ""
    assert editor_client.post(f"{CORRECTIONS}{publisher.pk}/revert/", {"force": True}).status_code == 409


def test_viewers_read_and_editors_write(viewer_client, corrected, api_client):
    publisher = MetadataCorrection.objects.get(book=corrected, field="publisher")

    assert viewer_client.get(CORRECTIONS).status_code == 200
    assert viewer_client.post(f"{CORRECTIONS}{publisher.pk}/revert/", {}).status_code == 403
    assert viewer_client.post(f"{API}correct-book/", {"book_id": corrected.pk}).status_code == 403
    assert viewer_client.post(f"{API}correct-all/", {}).status_code == 403
    assert viewer_client.delete(f"{API}cleanup/").status_code == 403
    assert viewer_client.post(f"/api/v1/books/{corrected.pk}/refresh-metadata/", {}).status_code == 403
    assert api_client.get(CORRECTIONS).status_code == 401
    assert api_client.get(f"{API}status/").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "tier"),
    [
        ("get", CORRECTIONS, "metadata"),
        ("get", f"{API}status/", "metadata"),
        ("get", f"{API}by-source/", "metadata"),
        ("get", f"{API}incomplete/", "metadata"),
        ("get", f"{API}providers/", "metadata"),
        ("get", f"{API}lookup/?title=Elantris", "search"),
        ("delete", f"{API}cleanup/", "metadata"),
        ("post", f"{API}correct-all/", "metadata"),
        ("post", "/api/v1/books/{id}/refresh-metadata/", "metadata"),
        ("get", "/api/v1/books/{id}/metadata-history/", "read"),
    ],
)
def test_each_endpoint_counts_against_its_tier(editor_client, settings, providers, method, path, tier):
    rates = {"public": 91, "read": 92, "write": 93, "download": 94, "metadata": 95, "search": 96, "admin": 97}
    settings.THROTTLE_RATES = {name: f"{rates.get(name, 98)}/minute" for name in settings.THROTTLE_RATES}
    book = sparse_book()

    response = getattr(editor_client, method)(path.replace("{id}", str(book.pk)))

    assert response.status_code < 300, response.content
    assert response["X-RateLimit-Limit"] == str(rates[tier])


# --- correcting --------------------------------------------------------------------------------


def test_correct_book_answers_what_changed_and_the_book(editor_client, providers):
    book = sparse_book()
    providers.records = [record("audnexus", isbn="", asin=""), record("googlebooks", title="Elantris")]
    providers.degraded = ["hardcover"]

    response = editor_client.post(
        f"{API}correct-book/", {"book_id": book.pk, "force": True, "providers": ["audnexus", "googlebooks"]}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched"] is True
    assert body["degraded"] == ["hardcover"]
    assert [c["accepted"] for c in body["candidates"]] == [True, False]
    changed = {change["field"]: change for change in body["changed"]}
    assert changed["publisher"] == {
        "field": "publisher",
        "old_value": "",
        "new_value": "Tor Books",
        "source": "audnexus",
        "confidence": 1.0,
    }
    assert changed["title"]["new_value"] == "The Way of Kings"  # force = overwrite: scan's title replaced
    assert body["book"]["id"] == book.pk and body["book"]["publisher"] == "Tor Books"
    assert body["book"]["metadata_sources"]["publisher"]["source"] == "audnexus"
    assert providers.calls[0]["providers"] == ["audnexus", "googlebooks"]
    assert {row.created_by.username for row in MetadataCorrection.objects.all()} == {"editor"}


def test_correct_book_validates_its_input(editor_client, providers):
    assert editor_client.post(f"{API}correct-book/", {"book_id": 424242}).status_code == 404
    bad = editor_client.post(f"{API}correct-book/", {"book_id": "x", "providers": ["altavista"]})
    assert bad.status_code == 422
    locs = {tuple(error["loc"]) for error in bad.json()["context"]["validation_errors"]}
    assert locs == {("body", "book_id"), ("body", "providers", 0)}


def test_refresh_metadata_corrects_one_book(editor_client, providers):
    book = sparse_book(publisher="Gollancz")
    book_lock_fields(books=[book], fields=["publisher"])
    providers.records = [record(isbn="", asin="")]

    response = editor_client.post(f"/api/v1/books/{book.pk}/refresh-metadata/", {"overwrite": True})

    assert response.status_code == 200
    body = response.json()
    assert body["book"]["publisher"] == "Gollancz"
    assert {"field": "publisher", "reason": "locked"} in [
        {"field": skip["field"], "reason": skip["reason"]} for skip in body["skipped"]
    ]
    assert body["book"]["description"].startswith("Roshar")
    assert editor_client.post("/api/v1/books/999/refresh-metadata/", {}).status_code == 404


def test_correct_all_queues_a_metadata_refresh_run(editor_client):
    response = editor_client.post(f"{API}correct-all/", {"threshold": 60, "limit": 10})

    assert response.status_code == 202
    run = JobRun.objects.get(pk=response.json()["id"])
    assert (run.job, run.trigger, run.status) == ("metadata_refresh", "api", "queued")
    assert run.params == {"threshold": 60, "limit": 10}
    assert editor_client.post(f"{API}correct-all/", {}).status_code == 409  # one run at a time


def test_correct_all_with_wait_runs_and_never_changes_a_locked_field(editor_client, providers):
    locked = sparse_book(publisher="Gollancz")
    book_lock_fields(books=[locked], fields=["publisher", "series"])
    free = sparse_book(title="Way of Kings")
    providers.records = [record(isbn="", asin="")]

    response = editor_client.post(f"{API}correct-all/?wait=true", {"overwrite": True})

    assert response.status_code == 200
    run = response.json()
    assert (run["status"], run["processed"], run["succeeded"]) == ("succeeded", 2, 2)
    locked.refresh_from_db()
    assert locked.publisher == "Gollancz" and not locked.series_entries.exists()
    assert Book.objects.get(pk=free.pk).publisher == "Tor Books"
    assert not MetadataCorrection.objects.filter(book=locked, field__in=["publisher", "series"]).exists()
    assert run["summary"]["skipped_fields"]["locked"] == 2


def test_correct_recent_takes_days(editor_client):
    response = editor_client.post(f"{API}correct-recent/", {"days": 3})

    assert response.status_code == 202
    assert JobRun.objects.get().params == {"days": 3}
    assert editor_client.post(f"{API}correct-recent/", {"days": 0}).status_code == 422


# --- lookup, providers, cleanup ----------------------------------------------------------------


def test_lookup_merges_the_matching_records_and_writes_nothing(viewer_client, providers, django_assert_num_queries):
    providers.records = [
        record("audnexus", publisher="", isbn=""),
        record("openlibrary", narrators=[]),
        record("googlebooks", title="Warbreaker"),
    ]
    before = (Book.objects.count(), Author.objects.count(), MetadataCorrection.objects.count())

    # 0 throttle counter (the fake registry asks nothing; the lookup itself reads and writes nothing)
    with django_assert_num_queries(1):
        response = viewer_client.get(f"{API}lookup/", {"title": "The Way of Kings", "author": "Sanderson, Brandon"})

    assert response.status_code == 200
    body = response.json()
    assert body["query"] == {"title": "The Way of Kings", "author": "Sanderson, Brandon"}
    assert body["record"]["publisher"] == "Tor Books"
    assert body["sources"]["publisher"]["source"] == "openlibrary"
    assert body["record"]["narrators"] == ["Michael Kramer", "Kate Reading"]
    assert body["sources"]["narrators"]["source"] == "audnexus"
    assert body["record"]["series"] == {"series": "The Stormlight Archive", "position": "1"}
    assert body["record"]["published_date"] == "2010-08-31"
    assert [c["accepted"] for c in body["candidates"]] == [True, True, False]
    assert (Book.objects.count(), Author.objects.count(), MetadataCorrection.objects.count()) == before


def test_lookup_needs_an_identifier_or_a_title(viewer_client, providers):
    assert viewer_client.get(f"{API}lookup/", {"author": "Someone"}).status_code == 422
    assert viewer_client.get(f"{API}lookup/", {"title": "X", "providers": "altavista"}).status_code == 422
    viewer_client.get(f"{API}lookup/", {"isbn": "9780765326355", "providers": "audnexus, hardcover"})
    assert providers.calls[-1]["providers"] == ["audnexus", "hardcover"]


def test_providers_lists_every_provider(viewer_client):
    body = viewer_client.get(f"{API}providers/").json()

    assert {row["name"] for row in body} == {"audnexus", "hardcover", "openlibrary", "googlebooks"}
    assert {"enabled", "configured", "base_url", "error_rate", "cache_entries", "circuit"} <= set(body[0])


def test_cleanup_deletes_old_cache_entries_and_never_corrections(editor_client, corrected):
    now = timezone.now()
    for key, age in (("isbn:old", 40), ("isbn:new", 1)):
        ProviderCache.objects.create(
            provider="openlibrary",
            key=key,
            payload={},
            fetched_at=now - timedelta(days=age),
            expires_at=now + timedelta(days=1),
        )
    history = MetadataCorrection.objects.count()

    response = editor_client.delete(f"{API}cleanup/?days=30")

    assert response.status_code == 200
    assert response.json() == {"deleted": 1, "older_than_days": 30}
    assert list(ProviderCache.objects.values_list("key", flat=True)) == ["isbn:new"]
    assert MetadataCorrection.objects.count() == history > 0
    assert editor_client.delete(f"{API}cleanup/?days=-1").status_code == 422


# --- figures -------------------------------------------------------------------------------------


def test_status_gives_buckets_the_books_below_the_threshold_and_fill_rates(viewer_client, corrected):
    BookFactory(title="Bare")  # title only: 10 %
    BookFactory(title="Archived", status="archived")

    body = viewer_client.get(f"{API}status/").json()

    assert body["active_books"] == 2
    assert body["threshold"] == 80
    assert body["below_threshold"] == 1
    assert {bucket["range"]: bucket["count"] for bucket in body["buckets"]} == {
        "0-19": 1,
        "20-39": 0,
        "40-59": 0,
        "60-79": 0,
        "80-100": 1,
    }
    rates = {row["field"]: row for row in body["fill_rates"]}
    assert rates["title"]["percentage"] == 100.0
    assert rates["narrator"] == {"field": "narrator", "filled": 1, "percentage": 50.0}
    assert body["average_completeness"] == 50.0  # 90 (no ISBN or ASIN) and 10


def test_by_source_counts_corrections_of_the_last_days(viewer_client, corrected, editor_user):
    book_update(book=corrected, fields={"language": "eng"}, user=editor_user)
    old = MetadataCorrection.objects.filter(field="description")
    old.update(created_at=timezone.now() - timedelta(days=40))

    body = viewer_client.get(f"{API}by-source/", {"days": 30}).json()

    sources = {row["source"]: row for row in body["sources"]}
    assert sources["manual"]["count"] == 1 and sources["manual"]["fields"] == {"language": 1}
    assert "description" not in sources["openlibrary"]["fields"]
    assert body["total"] == sum(row["count"] for row in body["sources"])
    assert viewer_client.get(f"{API}by-source/", {"days": 0}).status_code == 422


def test_incomplete_is_the_books_incomplete_list(viewer_client, corrected):
    BookFactory(title="Bare")

    body = viewer_client.get(f"{API}incomplete/").json()

    assert [row["title"] for row in body["results"]] == ["Bare"]
    assert "missing_fields" in body["results"][0]
    assert viewer_client.get(f"{API}incomplete/", {"threshold": 101}).status_code == 422


def test_every_metadata_write_needs_an_editor_key_scope(api_key_client, corrected):
    client = api_key_client(UserFactory(username="keyed", role="editor"), scopes=("read",))

    assert client.get(CORRECTIONS).status_code == 200
    assert client.post(f"{API}correct-book/", {"book_id": corrected.pk}).status_code == 403
