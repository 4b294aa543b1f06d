from django.urls import path

import publishing.converters  # noqa: F401  (registers the entry_ref converter)
from publishing import views

app_name = "publishing"
# Entry pages carry the agreement's reference, slashes included: see publishing/converters.py.

urlpatterns = [
    path("", views.home, name="home"),
    # Public URLs are a contract (DESIGN.md): other sites link to them, so they never change.
    path("registers/<slug:register>/", views.register_current, name="register"),
    path("registers/<slug:register>/latest.<str:fmt>", views.latest_file, name="latest_file"),
    path("registers/<slug:register>/editions/", views.edition_archive, name="archive"),
    path("registers/<slug:register>/editions/<slug:edition>/", views.edition_detail, name="edition"),
    path("registers/<slug:register>/editions/<slug:edition>.<str:fmt>", views.edition_file, name="edition_file"),
    path("registers/<slug:register>/entries/<entry_ref:reference>/", views.entry_current, name="entry"),
    path(
        "registers/<slug:register>/editions/<slug:edition>/entries/<entry_ref:reference>/",
        views.entry_in_edition,
        name="edition_entry",
    ),
]
