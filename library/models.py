"""The library: authors, narrators, series, books and their series entries."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from library import naming
from library.choices import BookStatus, CompletionStatus


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ProviderIdsMixin(models.Model):
    """Identifiers of the same entity at the metadata providers and the tracker."""

    openlibrary_id = models.CharField(max_length=64, blank=True, default="")
    hardcover_id = models.CharField(max_length=64, blank=True, default="")
    google_id = models.CharField(max_length=64, blank=True, default="")
    audible_asin = models.CharField(max_length=20, blank=True, default="")
    mam_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        abstract = True


class CompletionMixin(models.Model):
    """Owned/known/missing counts and the completion they imply (cached; see services)."""

    books_owned = models.PositiveIntegerField(default=0)
    books_missing = models.PositiveIntegerField(default=0)
    completion_percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    completion_status = models.CharField(
        max_length=10, choices=CompletionStatus.choices, default=CompletionStatus.UNKNOWN
    )
    monitored = models.BooleanField(default=False, help_text="Look for new or missing books.")
    last_checked = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Author(TimestampedModel, ProviderIdsMixin, CompletionMixin):
    """A writer; ``name_key`` makes names unique regardless of case and "Last, First" order."""

    name = models.CharField(max_length=255)
    name_key = models.CharField(max_length=255, unique=True, editable=False)
    sort_name = models.CharField(max_length=255, blank=True, default="")
    books_known = models.PositiveIntegerField(null=True, blank=True, help_text="Known to providers.")

    class Meta:
        ordering = ["sort_name", "id"]
        indexes = [
            models.Index(fields=["monitored"]),
            models.Index(fields=["completion_status"]),
            models.Index(fields=["books_owned"]),
            models.Index(fields=["books_missing"]),
            models.Index(fields=["sort_name"]),
            models.Index(Lower("name"), name="library_author_name_lower"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = naming.person_name(self.name)
        self.name_key = naming.name_key(self.name)
        if not self.sort_name:
            self.sort_name = naming.sort_name(self.name)
        super().save(*args, **kwargs)


class Narrator(TimestampedModel):
    """A reader of audiobooks."""

    name = models.CharField(max_length=255)
    name_key = models.CharField(max_length=255, unique=True, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = naming.person_name(self.name)
        self.name_key = naming.name_key(self.name)
        super().save(*args, **kwargs)


class Series(TimestampedModel, ProviderIdsMixin, CompletionMixin):
    """A series of books; unique by name per primary author."""

    name = models.CharField(max_length=255)
    name_key = models.CharField(max_length=255, editable=False)
    primary_author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_series"
    )
    authors = models.ManyToManyField(Author, blank=True, related_name="series")
    total_known = models.PositiveIntegerField(null=True, blank=True, help_text="Books in the series per providers.")

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "series"
        constraints = [
            models.UniqueConstraint(
                fields=["name_key", "primary_author"],
                name="library_series_unique_name_per_author",
            ),
            models.UniqueConstraint(
                fields=["name_key"],
                condition=models.Q(primary_author__isnull=True),
                name="library_series_unique_name_without_author",
            ),
        ]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["monitored"]),
            models.Index(fields=["completion_status"]),
            models.Index(fields=["completion_percentage"]),
            models.Index(fields=["books_missing"]),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = naming.clean(self.name)
        self.name_key = naming.name_key(self.name)
        super().save(*args, **kwargs)


class Book(models.Model):
    """An audiobook the household owns (or owned: archived books keep their history)."""

    title = models.CharField(max_length=500)
    subtitle = models.CharField(max_length=500, blank=True, default="")
    authors = models.ManyToManyField(Author, through="BookAuthor", related_name="books")
    narrators = models.ManyToManyField(Narrator, blank=True, related_name="books")
    series = models.ManyToManyField(Series, through="SeriesEntry", related_name="books")
    isbn = models.CharField(max_length=13, blank=True, default="")
    asin = models.CharField(max_length=10, blank=True, default="")
    publisher = models.CharField(max_length=255, blank=True, default="")
    published_year = models.PositiveSmallIntegerField(null=True, blank=True)
    published_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=32, blank=True, default="")
    description = models.TextField(blank=True, default="")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    abridged = models.BooleanField(default=False)
    format = models.CharField(max_length=10, blank=True, default="")
    bitrate_kbps = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    abs_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=BookStatus.choices, default=BookStatus.ACTIVE)
    metadata_completeness = models.PositiveSmallIntegerField(default=0, editable=False)
    metadata_sources = models.JSONField(default=dict, blank=True)
    locked_fields = models.JSONField(default=list, blank=True)
    date_added = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["status", "title"]),
            models.Index(fields=["title"]),
            models.Index(fields=["date_added"]),
            models.Index(fields=["metadata_completeness"]),
            models.Index(fields=["published_year"]),
            models.Index(fields=["duration_seconds"]),
            models.Index(fields=["language"]),
            models.Index(fields=["format"]),
            models.Index(fields=["abridged"]),
            models.Index(fields=["isbn"]),
            models.Index(fields=["asin"]),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        """Recompute ``metadata_completeness`` on every save."""
        self.metadata_completeness = book_completeness(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "metadata_completeness" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "metadata_completeness"]
        super().save(*args, **kwargs)


class BookAuthor(models.Model):
    """The ordered link between a book and its authors (first author first)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="book_authors")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="book_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["book", "author"], name="library_bookauthor_unique")]

    def __str__(self):
        return f"{self.author_id} wrote {self.book_id}"


class SeriesEntry(models.Model):
    """A book's place in a series: ``position`` sorts, ``position_end`` marks an omnibus range."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="series_entries")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="entries")
    position = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    position_end = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    position_label = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = [models.F("position").asc(nulls_last=True), "id"]
        verbose_name_plural = "series entries"
        constraints = [models.UniqueConstraint(fields=["book", "series"], name="library_seriesentry_unique")]
        indexes = [models.Index(fields=["series", "position"])]

    def __str__(self):
        return f"{self.series} #{self.position_label or '?'}"


class BookFile(models.Model):
    """One audio file of a book, as last seen on disk (size and mtime detect changes)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024, unique=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    mtime = models.FloatField(null=True, blank=True)
    format = models.CharField(max_length=10, blank=True, default="")
    duration_seconds = models.FloatField(null=True, blank=True)
    bitrate_kbps = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=32, blank=True, default="", help_text="As mutagen reports it: aac, mp3, flac…")
    chapters = models.PositiveIntegerField(null=True, blank=True, help_text="Chapter markers in the file, if read.")

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.path


def _filled(value) -> bool:
    return value not in (None, "", [], {})


def book_completeness(book: Book) -> int:
    """Share (0–100) of the completeness fields of SPEC §3 that ``book`` fills.

    Relations are read from prefetched caches when present, else queried (a saved book only).
    """
    if book.pk:
        authors = bool(book.book_authors.all()) if _prefetched(book, "book_authors") else book.book_authors.exists()
        narrators = bool(book.narrators.all()) if _prefetched(book, "narrators") else book.narrators.exists()
        positions = [entry.position for entry in book.series_entries.all()]
    else:
        authors = narrators = False
        positions = []
    return completeness_score(book, authors=authors, narrators=narrators, positions=positions)


def completeness_score(book: Book, *, authors: bool, narrators: bool, positions: list) -> int:
    """``book_completeness`` for relations known by the caller (``positions``: one per series entry)."""
    filled = [
        _filled(book.title),
        authors,
        bool(positions),
        any(position is not None for position in positions),
        _filled(book.isbn) or _filled(book.asin),
        _filled(book.publisher),
        _filled(book.published_year) or _filled(book.published_date),
        _filled(book.duration_seconds),
        _filled(book.description),
        narrators,
    ]
    return round(100 * sum(filled) / len(filled))


def _prefetched(instance, name: str) -> bool:
    return name in getattr(instance, "_prefetched_objects_cache", {})


# Gaps and metadata history live in their own modules; Django finds them through this one.
from library.models_gaps import GapReason, GapStatus, MissingBook  # noqa: E402, F401
from library.models_metadata import (  # noqa: E402, F401
    CorrectionSource,
    MetadataCorrection,
    ProviderCache,
    ProviderState,
)
