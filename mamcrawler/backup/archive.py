"""The archive format: a zip with ``manifest.json`` and one JSON Lines file per model.

Rows are written with Django's serializers (``jsonl``), with three changes:
many-to-many values are left out of the owning rows (their auto-created tables are files of
their own, so through rows keep their ids), foreign keys to permissions and content types
are natural keys (their ids differ between databases), and times keep their microseconds.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time

from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.jsonl import Serializer as JsonlSerializer

from mamcrawler.backup.catalog import NATURAL_KEY_MODELS

FORMAT = "mamcrawler-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_DIR = "data"


def data_file(label_lower: str) -> str:
    return f"{DATA_DIR}/{label_lower}.jsonl"


class FullPrecisionEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts times to milliseconds; a backup keeps every digit."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


class ArchiveSerializer(JsonlSerializer):
    """The ``jsonl`` serializer, adapted for whole-table copies; counts the rows it writes."""

    def start_serialization(self):
        super().start_serialization()
        self.json_kwargs["cls"] = FullPrecisionEncoder
        self.json_kwargs["separators"] = (",", ":")
        self.rows = 0

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model._meta.label in NATURAL_KEY_MODELS
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        """Nothing: an auto-created many-to-many table is backed up as a model of its own."""

    def end_object(self, obj):
        super().end_object(obj)
        self.rows += 1


class HashingWriter:
    """A text sink for the serializer: UTF-8 into a binary stream, hashed on the way."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.sha256.update(data)
        self.raw.write(data)
        return len(text)

    def hexdigest(self) -> str:
        return self.sha256.hexdigest()


def file_sha256(zf, name: str) -> str:
    digest = hashlib.sha256()
    with zf.open(name) as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_dumps(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=False) + "\n"
