from django.db import models


class BookStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"
    DUPLICATE = "duplicate", "Duplicate"


class CompletionStatus(models.TextChoices):
    """``complete`` = 100 %, ``partial`` ≥ 50 %, ``incomplete`` < 50 %, ``unknown`` without a total."""

    COMPLETE = "complete", "Complete"
    PARTIAL = "partial", "Partial"
    INCOMPLETE = "incomplete", "Incomplete"
    UNKNOWN = "unknown", "Unknown"


# The fields whose presence makes up ``Book.metadata_completeness`` (SPEC §3).
COMPLETENESS_FIELDS = (
    "title",
    "author",
    "series",
    "position",
    "isbn_or_asin",
    "publisher",
    "year",
    "duration",
    "description",
    "narrator",
)

# Fields a person may lock against automatic correction.
LOCKABLE_FIELDS = (
    "title",
    "subtitle",
    "authors",
    "narrators",
    "series",
    "isbn",
    "asin",
    "publisher",
    "published_year",
    "published_date",
    "language",
    "description",
    "duration_seconds",
    "abridged",
    "format",
    "bitrate_kbps",
)
