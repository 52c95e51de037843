"""The project's URLs plus the data-access floor; used only through ``bench.settings``."""

from django.urls import path

from bench.floor import FLOOR_PATH, book_list_floor
from mamcrawler import urls as project

handler404 = project.handler404
handler500 = project.handler500

urlpatterns = [
    path(FLOOR_PATH.lstrip("/"), book_list_floor, name="bench-floor-books"),
    *project.urlpatterns,
]
