"""The IG team's staff area, mounted at /staff/. Objects are addressed by id: references such as SL/25/1
contain slashes."""

from django.urls import path

from agreements import export_views, import_views, linkage_views, views

app_name = "staff"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/new/", views.OrganisationCreateView.as_view(), name="organisation_create"),
    path("organisations/<int:pk>/", views.OrganisationDetailView.as_view(), name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.OrganisationEditView.as_view(), name="organisation_edit"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement_list"),
    path("agreements/new/", views.AgreementCreateView.as_view(), name="agreement_create"),
    path("agreements/new-sub-licence/", views.SubLicenceCreateView.as_view(), name="sub_licence_create"),
    path("agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="agreement_detail"),
    path("agreements/<int:pk>/edit/", views.AgreementEditView.as_view(), name="agreement_edit"),
    *[
        path(
            f"agreements/<int:pk>/{step}/",
            views.AgreementTransitionView.as_view(),
            {"step": step},
            name=f"agreement_{step}",
        )
        for step in ("submit", "approve", "return", "terminate")
    ],
    path("agreements/<int:pk>/documents/new/", views.DocumentUploadView.as_view(), name="document_create"),
    path(
        "agreements/<int:pk>/documents/<int:document_pk>/",
        views.DocumentDownloadView.as_view(),
        name="document_download",
    ),
    path("import/", import_views.ImportStartView.as_view(), name="import"),
    path("import/done/", import_views.ImportDoneView.as_view(), name="import_done"),
    path("import/<str:token>/", import_views.ImportPreviewView.as_view(), name="import_preview"),
    path("export/", export_views.ExportIndexView.as_view(), name="export"),
    *[
        path(f"export/{name}", export_views.ExportFileView.as_view(), {"name": name}, name=f"export_{url_name}")
        for name, url_name in [
            ("register.csv", "register_csv"),
            ("register.xlsx", "register_xlsx"),
            ("organisations.csv", "organisations_csv"),
        ]
    ],
    # Linkages of non-health data, and NHS England's permitted purposes (agreements.linkage_views).
    path("linkages/", linkage_views.LinkageListView.as_view(), name="linkage_list"),
    path("linkages/new/", linkage_views.LinkageCreateView.as_view(), name="linkage_create"),
    path("linkages/purposes/", linkage_views.PermittedPurposeListView.as_view(), name="permitted_purposes"),
    path("linkages/<int:pk>/", linkage_views.LinkageDetailView.as_view(), name="linkage_detail"),
    path("linkages/<int:pk>/edit/", linkage_views.LinkageEditView.as_view(), name="linkage_edit"),
    *[
        path(
            f"linkages/<int:pk>/{step}/",
            linkage_views.LinkageTransitionView.as_view(),
            {"step": step},
            name=f"linkage_{step}",
        )
        for step in ("activate", "close")
    ],
]
