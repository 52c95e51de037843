"""Admin for the library; cached counts and completeness are kept right through the services."""

from django import forms
from django.contrib import admin, messages

from library import admin_metadata, naming  # noqa: F401 - admin_metadata registers its models
from library.choices import BookStatus
from library.models import Author, Book, BookAuthor, BookFile, Narrator, Series, SeriesEntry
from library.selectors.books import AUTHOR_LINKS, author_links_prefetch, relation_list
from library.services.authors import author_delete, author_set_monitored
from library.services.books import book_delete, book_set_status
from library.services.completion import author_recalculate_many, series_recalculate_many
from library.services.metadata_history import book_record_edit, book_snapshot
from library.services.series import series_delete, series_set_monitored

COMPLETION_FIELDS = ("books_owned", "books_missing", "completion_percentage", "completion_status")
TIMESTAMPS = ("created_at", "updated_at")


def name_clash_form(key, scope=()):
    """A form that reports a clash on the normalised name instead of failing on the unique index."""

    class NameClashForm(forms.ModelForm):
        def clean(self):
            data = super().clean()
            if data.get("name"):
                lookup = {"name_key": key(data["name"]), **{field: data.get(field) for field in scope}}
                if self._meta.model.objects.filter(**lookup).exclude(pk=self.instance.pk).exists():
                    self.add_error("name", f"A {self._meta.model._meta.verbose_name} with this name already exists.")
            return data

    return NameClashForm


class MonitoredAdmin(admin.ModelAdmin):
    """Authors and series: counts refreshed on save and by an action; monitoring; deletes via services."""

    list_filter = ("monitored", "completion_status")
    readonly_fields = ("name_key", *COMPLETION_FIELDS, *TIMESTAMPS)
    actions = ("recalculate_completion", "monitor", "unmonitor")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.recalculate([obj.pk])

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description="Recalculate completion")
    def recalculate_completion(self, request, queryset):
        count = self.recalculate(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Recalculated {count} row(s).", messages.SUCCESS)

    @admin.action(description="Monitor")
    def monitor(self, request, queryset):
        for obj in queryset:
            self.set_monitored(obj, True)
        self.message_user(request, f"Monitoring {len(queryset)} row(s).", messages.SUCCESS)

    @admin.action(description="Unmonitor")
    def unmonitor(self, request, queryset):
        for obj in queryset:
            self.set_monitored(obj, False)
        self.message_user(request, f"Stopped monitoring {len(queryset)} row(s).", messages.SUCCESS)


@admin.register(Author)
class AuthorAdmin(MonitoredAdmin):
    form = name_clash_form(naming.person_key)
    list_display = (
        "name",
        "sort_name",
        "monitored",
        "books_owned",
        "books_known",
        "books_missing",
        "completion_status",
    )
    search_fields = ("name", "sort_name", "audible_asin", "openlibrary_id", "hardcover_id")

    def recalculate(self, ids):
        return author_recalculate_many(author_ids=ids)

    def set_monitored(self, author, monitored):
        author_set_monitored(author=author, monitored=monitored)

    def delete_model(self, request, obj):
        author_delete(author=obj)

    def get_deleted_objects(self, objs, request):
        # Like the API, refuse to delete an author who still has books (merge instead).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        with_books = [
            f"{author}: still has books; merge into another author" for author in objs if author.book_links.exists()
        ]
        return deleted, counts, perms_needed, [*protected, *with_books]


@admin.register(Series)
class SeriesAdmin(MonitoredAdmin):
    form = name_clash_form(lambda name: naming.name_key(naming.clean(name)), scope=("primary_author",))
    list_display = (
        "name",
        "primary_author",
        "monitored",
        "total_known",
        "books_owned",
        "books_missing",
        "completion_status",
    )
    search_fields = ("name", "primary_author__name", "openlibrary_id", "hardcover_id")
    list_select_related = ("primary_author",)
    autocomplete_fields = ("primary_author", "authors")

    def recalculate(self, ids):
        return series_recalculate_many(series_ids=ids)

    def set_monitored(self, series, monitored):
        series_set_monitored(series=series, monitored=monitored)

    def delete_model(self, request, obj):
        series_delete(series=obj)


@admin.register(Narrator)
class NarratorAdmin(admin.ModelAdmin):
    form = name_clash_form(naming.person_key)
    list_display = ("name", "created_at")
    search_fields = ("name",)
    readonly_fields = ("name_key", *TIMESTAMPS)


class BookAuthorInline(admin.TabularInline):
    model = BookAuthor
    autocomplete_fields = ("author",)
    extra = 0


class SeriesEntryInline(admin.TabularInline):
    model = SeriesEntry
    autocomplete_fields = ("series",)
    extra = 0


class BookFileInline(admin.TabularInline):
    model = BookFile
    extra = 0


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ("title", "author_names", "status", "format", "language", "metadata_completeness", "date_added")
    list_filter = ("status", "format", "language", "abridged")
    search_fields = ("title", "subtitle", "isbn", "asin", "authors__name", "narrators__name", "series__name")
    autocomplete_fields = ("narrators",)
    readonly_fields = ("metadata_completeness", "metadata_sources", "date_added", "updated_at")
    inlines = (BookAuthorInline, SeriesEntryInline, BookFileInline)
    actions = ("archive", "restore")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(author_links_prefetch())

    @admin.display(description="Authors")
    def author_names(self, book):
        return ", ".join(link.author_name for link in relation_list(book, AUTHOR_LINKS))

    def save_model(self, request, obj, form, change):
        # What the book looked like before this edit, so the edit lands in its metadata history.
        request._book_before = book_snapshot(Book.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """After the inlines are saved: record the edit as corrections, refresh completeness and counts."""
        book = form.instance
        series_ids = set(SeriesEntry.objects.filter(book=book).values_list("series_id", flat=True))
        author_ids = set(BookAuthor.objects.filter(book=book).values_list("author_id", flat=True))
        super().save_related(request, form, formsets, change)
        series_ids |= set(SeriesEntry.objects.filter(book=book).values_list("series_id", flat=True))
        author_ids |= set(BookAuthor.objects.filter(book=book).values_list("author_id", flat=True))
        book.save(update_fields=["metadata_completeness"])
        book_record_edit(book=book, before=getattr(request, "_book_before", {}), user=request.user)
        series_recalculate_many(series_ids=series_ids)
        author_recalculate_many(author_ids=author_ids)

    def delete_model(self, request, obj):
        book_delete(book=obj)

    def delete_queryset(self, request, queryset):
        for book in queryset:
            book_delete(book=book)

    @admin.action(description="Archive")
    def archive(self, request, queryset):
        count = book_set_status(books=list(queryset), status=BookStatus.ARCHIVED)
        self.message_user(request, f"Archived {count} book(s).", messages.SUCCESS)

    @admin.action(description="Restore")
    def restore(self, request, queryset):
        count = book_set_status(books=list(queryset), status=BookStatus.ACTIVE)
        self.message_user(request, f"Restored {count} book(s).", messages.SUCCESS)


@admin.register(SeriesEntry)
class SeriesEntryAdmin(admin.ModelAdmin):
    list_display = ("series", "position_label", "position", "position_end", "book")
    search_fields = ("series__name", "book__title")
    list_select_related = ("series", "book")
    autocomplete_fields = ("series", "book")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._refresh({obj.series_id, form.initial.get("series")}, {obj.book_id, form.initial.get("book")})

    def delete_queryset(self, request, queryset):
        pairs = list(queryset.values_list("series_id", "book_id"))
        super().delete_queryset(request, queryset)
        self._refresh({series for series, _ in pairs}, {book for _, book in pairs})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._refresh({obj.series_id}, {obj.book_id})

    @staticmethod
    def _refresh(series_ids, book_ids):
        """Entries feed the series' counts and the books' completeness (series and position)."""
        series_recalculate_many(series_ids=series_ids - {None})
        for book in Book.objects.filter(id__in=book_ids - {None}):
            book.save(update_fields=["metadata_completeness"])


@admin.register(BookFile)
class BookFileAdmin(admin.ModelAdmin):
    list_display = ("path", "book", "format", "size_bytes", "duration_seconds", "bitrate_kbps")
    list_filter = ("format",)
    search_fields = ("path", "book__title")
    list_select_related = ("book",)
    autocomplete_fields = ("book",)


# Gaps: their own admin, and a section of the series page (needs SeriesAdmin above).
from library import admin_gaps  # noqa: E402, F401
