from django.urls import path, register_converter

from publishing import staff_views, views
from publishing.converters import EntryReferenceConverter

app_name = "publishing"
# Entry pages carry the agreement's reference, slashes included: see publishing/converters.py.
register_converter(EntryReferenceConverter, "entry_ref")

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
    # Staff area.
    path("staff/registers/", staff_views.register_list, name="staff_registers"),
    path("staff/registers/<slug:register>/", staff_views.register_detail, name="staff_register"),
    path("staff/registers/<slug:register>/edit/", staff_views.register_edit, name="staff_register_edit"),
    path("staff/registers/<slug:register>/preview/", staff_views.register_preview, name="staff_preview"),
    path("staff/registers/<slug:register>/publish/", staff_views.register_publish, name="staff_publish"),
    path("staff/registers/<slug:register>/editions/<int:pk>/", staff_views.edition_detail, name="staff_edition"),
    path(
        "staff/registers/<slug:register>/editions/<int:pk>/status/",
        staff_views.edition_status,
        name="staff_edition_status",
    ),
    path(
        "staff/registers/<slug:register>/editions/<int:pk>/withdraw/",
        staff_views.edition_withdraw,
        name="staff_edition_withdraw",
    ),
    path(
        "staff/registers/<slug:register>/editions/<int:pk>/entries/<entry_ref:reference>/",
        staff_views.edition_entry,
        name="staff_edition_entry",
    ),
    path(
        "staff/registers/<slug:register>/editions/<int:pk>.<str:fmt>",
        staff_views.edition_file,
        name="staff_edition_file",
    ),
]
