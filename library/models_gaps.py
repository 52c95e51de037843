"""Missing books: gaps in series, unowned books of followed authors, wishlist items (SPEC §3)."""

from django.db import models


class GapReason(models.TextChoices):
    SERIES_GAP = "series_gap", "Series gap"
    AUTHOR_GAP = "author_gap", "Author gap"
    WISHLIST = "wishlist", "Wishlist"


class GapStatus(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    WANTED = "wanted", "Wanted"
    SEARCHING = "searching", "Searching"
    FOUND = "found", "Found"
    QUEUED = "queued", "Queued"
    DOWNLOADING = "downloading", "Downloading"
    COMPLETED = "completed", "Completed"
    NOT_FOUND = "not_found", "Not found"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


OPEN_GAP_STATUSES = (
    GapStatus.IDENTIFIED,
    GapStatus.WANTED,
    GapStatus.SEARCHING,
    GapStatus.FOUND,
    GapStatus.NOT_FOUND,
    GapStatus.FAILED,
)


class MissingBook(models.Model):
    """A book the household does not own but wants, or may want; updated in place across runs."""

    title = models.CharField(max_length=500)
    title_key = models.CharField(max_length=500, editable=False, help_text="Normalised title for matching.")
    authors = models.ManyToManyField("library.Author", blank=True, related_name="gaps")
    author_names = models.JSONField(default=list, blank=True, help_text="As the provider wrote them.")
    primary_author = models.ForeignKey(
        "library.Author", null=True, blank=True, on_delete=models.CASCADE, related_name="primary_gaps"
    )
    series = models.ForeignKey("library.Series", null=True, blank=True, on_delete=models.CASCADE, related_name="gaps")
    position = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    position_label = models.CharField(max_length=32, blank=True, default="")
    reason = models.CharField(max_length=12, choices=GapReason.choices)
    status = models.CharField(max_length=12, choices=GapStatus.choices, default=GapStatus.IDENTIFIED)
    priority = models.PositiveSmallIntegerField(default=2, help_text="1 high … 3 low.")
    isbn = models.CharField(max_length=13, blank=True, default="")
    asin = models.CharField(max_length=10, blank=True, default="")
    identifiers = models.JSONField(default=dict, blank=True, help_text="Provider ids (openlibrary, hardcover, …).")
    published_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=32, blank=True, default="")
    sources = models.JSONField(default=list, blank=True, help_text="Providers that know this book.")
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    best_candidate = models.JSONField(null=True, blank=True, help_text="Best MAM candidate with its cost.")
    hold_reason = models.CharField(max_length=255, blank=True, default="")
    searched_at = models.DateTimeField(null=True, blank=True, help_text="Last MAM search for this gap.")
    resolved_book = models.ForeignKey(
        "library.Book", null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_gaps"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "series_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "position"],
                condition=models.Q(reason="series_gap"),
                name="library_gap_unique_series_position",
            ),
            models.UniqueConstraint(
                fields=["primary_author", "title_key"],
                condition=models.Q(reason__in=["author_gap", "wishlist"]),
                name="library_gap_unique_author_title",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "priority"]),
            models.Index(fields=["reason", "status"]),
            models.Index(fields=["series", "position"]),
            models.Index(fields=["primary_author"]),
            models.Index(fields=["first_seen"]),
            models.Index(fields=["searched_at"]),
            models.Index(fields=["isbn"]),
            models.Index(fields=["asin"]),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_reason_display()})"
