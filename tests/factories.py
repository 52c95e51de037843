"""factory-boy factories shared by the tests."""

import factory

from library.models import Author, Book, BookAuthor, Narrator, Series, SeriesEntry
from mamcrawler.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = "viewer"
    password = factory.django.Password("correct-horse-battery")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Author Number{n}")


class NarratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Narrator

    name = factory.Sequence(lambda n: f"Narrator Voice{n}")


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Series

    name = factory.Sequence(lambda n: f"Saga {n}")


class BookFactory(factory.django.DjangoModelFactory):
    """A book; pass ``authors=[...]`` / ``narrators=[...]`` to link people."""

    class Meta:
        model = Book
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Book Title {n}")
    language = "en"
    format = "m4b"

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        for index, author in enumerate(extracted or []):
            BookAuthor.objects.create(book=self, author=author, position=index)

    @factory.post_generation
    def narrators(self, create, extracted, **kwargs):
        if extracted:
            self.narrators.set(extracted)


class SeriesEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SeriesEntry

    book = factory.SubFactory(BookFactory)
    series = factory.SubFactory(SeriesFactory)
    position = None
    position_label = ""
