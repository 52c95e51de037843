"""One FilterSet per resource: ``books.py``, ``series.py``, ``authors.py``."""
