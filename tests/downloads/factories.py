"""A factory for downloads; ``status`` is set directly, as the state machine is what the tests exercise."""

import factory

from downloads.models import Download


class DownloadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Download

    title = factory.Sequence(lambda n: f"Download {n}")
    author = "Some Author"
    info_hash = factory.Sequence(lambda n: f"{n:040x}")
    mam_torrent_id = factory.Sequence(lambda n: 1000 + n)
