"""The IG team's staff area, mounted at /staff/. Objects are addressed by id: references such as SL/25/1
contain slashes."""

from django.urls import path

import publishing.converters  # noqa: F401  (registers the entry_ref converter)
from datarequests import workflow
from staff.views import agreements as views
from staff.views import amendments as amendment_views
from staff.views import audit as audit_views
from staff.views import datarequests as requests_views
from staff.views import exports as export_views
from staff.views import imports as import_views
from staff.views import linkages as linkage_views
from staff.views import registers
from staff.views import users as user_views

app_name = "staff"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("audit/", audit_views.AuditLogView.as_view(), name="audit_log"),
    path("users/", user_views.UserListView.as_view(), name="users"),
    path("users/invite/", user_views.InvitationCreateView.as_view(), name="user_invite"),
    path("users/invitations/<int:pk>/resend/", user_views.InvitationResendView.as_view(), name="invitation_resend"),
    path("users/<int:pk>/", user_views.UserDetailView.as_view(), name="user"),
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
        for step in views.PAGES
    ],
    path(
        "agreements/<int:pk>/amendments/<int:amendment_pk>/", amendment_views.AmendmentView.as_view(), name="amendment"
    ),
    *[
        path(
            f"agreements/<int:pk>/amendments/<int:amendment_pk>/{step}/",
            amendment_views.AmendmentStepView.as_view(),
            {"step": step},
            name=f"amendment_{step}",
        )
        for step in ("submit", "approve", "return", "withdraw")
    ],
    path(
        "agreements/<int:pk>/amendments/<int:amendment_pk>/documents/new/",
        amendment_views.AmendmentDocumentUploadView.as_view(),
        name="amendment_document_create",
    ),
    path("agreements/<int:pk>/supersede/", views.SupersedeView.as_view(), name="agreement_supersede"),
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
    # Linkages of non-health data, and NHS England's permitted purposes (staff.views.linkages).
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
    # Registers and their editions (staff.views.registers); the public pages are publishing.urls.
    path("registers/", registers.RegisterListView.as_view(), name="registers"),
    path("registers/<slug:register>/", registers.RegisterDetailView.as_view(), name="register"),
    path("registers/<slug:register>/edit/", registers.RegisterEditView.as_view(), name="register_edit"),
    path("registers/<slug:register>/next/", registers.RegisterNextEditionView.as_view(), name="register_next"),
    path("registers/<slug:register>/preview/", registers.RegisterPreviewView.as_view(), name="register_preview"),
    path("registers/<slug:register>/publish/", registers.RegisterPublishView.as_view(), name="register_publish"),
    path("registers/<slug:register>/editions/<int:pk>/", registers.EditionDetailView.as_view(), name="edition"),
    path(
        "registers/<slug:register>/editions/<int:pk>/status/",
        registers.EditionStatusView.as_view(),
        name="edition_status",
    ),
    path(
        "registers/<slug:register>/editions/<int:pk>/withdraw/",
        registers.EditionWithdrawView.as_view(),
        name="edition_withdraw",
    ),
    path(
        "registers/<slug:register>/editions/<int:pk>/entries/<entry_ref:reference>/",
        registers.EditionEntryView.as_view(),
        name="edition_entry",
    ),
    path(
        "registers/<slug:register>/editions/<int:pk>.<str:fmt>",
        registers.EditionFileView.as_view(),
        name="edition_file",
    ),
    # The data-request log (staff.views.datarequests). The workflow's actions come from its table.
    path("requests/", requests_views.RequestListView.as_view(), name="datarequest_list"),
    path("requests/new/", requests_views.RequestCreateView.as_view(), name="datarequest_create"),
    path("requests/timeline/", requests_views.TimelineView.as_view(), name="datarequest_timeline_all"),
    path("requests/timeline.<str:fmt>", requests_views.TimelineView.as_view(), name="datarequest_timeline_all_file"),
    path("requests/<int:pk>/", requests_views.RequestDetailView.as_view(), name="datarequest_detail"),
    path("requests/<int:pk>/edit/", requests_views.RequestEditView.as_view(), name="datarequest_edit"),
    path("requests/<int:pk>/timeline/", requests_views.RequestTimelineView.as_view(), name="datarequest_timeline"),
    path(
        "requests/<int:pk>/timeline.<str:fmt>",
        requests_views.RequestTimelineView.as_view(),
        name="datarequest_timeline_file",
    ),
    *[
        path(
            f"requests/<int:pk>/{t.action.replace('_', '-')}/",
            requests_views.RequestTransitionView.as_view(),
            {"action": t.action},
            name=f"datarequest_{t.action}",
        )
        for t in workflow.TRANSITIONS
    ],
    path("requests/<int:pk>/items/new/", requests_views.LineItemCreateView.as_view(), name="datarequest_item_create"),
    path(
        "requests/<int:pk>/items/<int:item_pk>/edit/",
        requests_views.LineItemEditView.as_view(),
        name="datarequest_item_edit",
    ),
    path(
        "requests/<int:pk>/items/<int:item_pk>/decide/",
        requests_views.DecisionCreateView.as_view(),
        name="datarequest_decide_item",
    ),
    path(
        "requests/<int:pk>/items/<int:item_pk>/fulfil/",
        requests_views.LineItemFulfilView.as_view(),
        name="datarequest_fulfil_item",
    ),
    path(
        "requests/<int:pk>/decisions/<int:decision_pk>/approve/",
        requests_views.DecisionStepView.as_view(),
        name="datarequest_decision_approve",
    ),
    path(
        "requests/<int:pk>/decisions/<int:decision_pk>/return/",
        requests_views.DecisionReturnView.as_view(),
        name="datarequest_decision_return",
    ),
    path(
        "organisations/<int:pk>/response-targets/",
        requests_views.ResponseTargetsView.as_view(),
        name="organisation_response_targets",
    ),
    path("data-sharing-groups/", requests_views.GroupListView.as_view(), name="datarequest_group_list"),
    path("data-sharing-groups/new/", requests_views.GroupCreateView.as_view(), name="datarequest_group_create"),
    path("data-sharing-groups/<int:pk>/", requests_views.GroupDetailView.as_view(), name="datarequest_group_detail"),
    path("meetings/new/", requests_views.MeetingCreateView.as_view(), name="datarequest_meeting_create"),
    path("meetings/<int:pk>/", requests_views.MeetingDetailView.as_view(), name="datarequest_meeting_detail"),
    path(
        "meetings/<int:pk>/actions/new/",
        requests_views.MeetingActionCreateView.as_view(),
        name="datarequest_meeting_action_create",
    ),
]
