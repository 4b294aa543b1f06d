"""The roles of the IG team, as groups with model permissions. Partner contacts hold object permissions on
their organisation instead (see selectors.organisations_for_partner), so they have no group here.

roles_sync() runs after every migrate, so a new permission reaches its roles without a hand-written migration.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

IG_OFFICER = "IG officer"
IG_APPROVER = "IG approver"
AUDITOR = "Auditor"
# An IG approver who also runs the accounts: invites people, changes roles, resets their sign-in.
IG_LEAD = "IG lead"

_REGISTER_MODELS = ["organisation", "agreement", "party", "dataset", "document", "purpose", "linkage"]
_PUBLISHING_MODELS = ["register", "edition"]
_DATA_REQUEST_MODELS = [
    "datarequest",
    "lineitem",
    "decision",
    "requestevent",
    "datasharinggroup",
    "meeting",
    "meetingaction",
    "responsetargets",
]

# Reference data and the reminder log are read-only for everyone: a data migration and the daily task write them.
_READ_ONLY_MODELS = ["permittedpurpose", "sentreminder"]

_VIEW = (
    [f"agreements.view_{m}" for m in _REGISTER_MODELS + _READ_ONLY_MODELS]
    + [f"publishing.view_{m}" for m in _PUBLISHING_MODELS]
    + [f"datarequests.view_{m}" for m in _DATA_REQUEST_MODELS]
)
_EDIT = [f"agreements.{action}_{m}" for m in _REGISTER_MODELS for action in ("add", "change")]
# The data-request log is written only through its services; these permissions say who may call them.
_HANDLE_REQUESTS = [
    "datarequests.add_datarequest",
    "datarequests.change_datarequest",
    "datarequests.handle_datarequest",
]

ROLES: dict[str, list[str]] = {
    IG_OFFICER: [
        *_VIEW,
        *_EDIT,
        *_HANDLE_REQUESTS,
        "agreements.submit_agreement",
        "agreements.activate_linkage",
        "publishing.change_register",
    ],
    IG_APPROVER: [
        *_VIEW,
        *_EDIT,
        *_HANDLE_REQUESTS,
        "datarequests.decide_personal_datarequest",
        "agreements.submit_agreement",
        "agreements.approve_agreement",
        "agreements.terminate_agreement",
        "agreements.activate_linkage",
        "publishing.change_register",
        "publishing.publish_edition",
    ],
    AUDITOR: [*_VIEW, "audit.view_auditevent"],
}
ROLES[IG_LEAD] = [*ROLES[IG_APPROVER], "accounts.manage_users", "audit.view_auditevent"]


def roles_sync(**kwargs: Any) -> None:
    """Create the role groups and give each exactly its permissions. Idempotent."""
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        query = Q(pk__in=[])
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))
