"""Audnexus (https://api.audnex.us): Audible's audiobook data by ASIN.

``/books/{asin}`` gives what only an audiobook store knows — narrators, runtime, the
series position and the release date.  Audnexus is keyed by ASIN only, so it answers
no searches, series or author questions (the registry skips it for those).
"""

from __future__ import annotations

import re

from library.naming import clean
from library.providers.base import BookRecord, MetadataProvider, NotFoundAnswer
from library.providers.parsing import isbn_digits, language, names, plain_text, position_label, published

_ASIN = re.compile(r"^[A-Z0-9]{10}$")


class AudnexusProvider(MetadataProvider):
    name = "audnexus"
    service = "Audnexus"
    url_setting = "AUDNEXUS_URL"

    def fetch_asin(self, *, asin: str) -> dict:
        if not _ASIN.match(asin):
            raise NotFoundAnswer(asin)  # Audnexus answers 400 to anything else; nothing to ask
        return self.client.get_json(f"/books/{asin}", missing_ok=True)

    def parse_asin(self, payload: dict, *, asin: str) -> list[BookRecord]:
        title = clean(payload.get("title") or "")
        if not title:
            return []
        series = payload.get("seriesPrimary") or {}
        label = position_label(series.get("position"))
        year, day = published(payload.get("releaseDate"))
        runtime = payload.get("runtimeLengthMin")
        format_type = (payload.get("formatType") or "").lower()
        isbn = isbn_digits(payload.get("isbn") or "")
        return [
            BookRecord(
                provider=self.name,
                title=title,
                subtitle=clean(payload.get("subtitle") or ""),
                authors=names(payload.get("authors")),
                narrators=names(payload.get("narrators")),
                series_name=clean(series.get("name") or ""),
                series_position=label,
                isbn=isbn,
                isbns=[isbn] if isbn else [],
                asin=clean(payload.get("asin") or asin).upper(),
                publisher=clean(payload.get("publisherName") or ""),
                published_year=year,
                published_date=day,
                language=language(payload.get("language")),
                description=plain_text(payload.get("summary") or payload.get("description") or ""),
                duration_seconds=int(runtime) * 60 if runtime else None,
                abridged={"abridged": True, "unabridged": False}.get(format_type),
                identifiers={"audible": clean(payload.get("asin") or asin).upper()},
            )
        ]
