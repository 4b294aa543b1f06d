"""The one audit trail for every domain: who did what, to which record, when, from where, and why.

One row per action (the Zulip audit-log pattern), however many rows and relations the action touched. A record is
named by a generic reference (content type and id) plus the label it had at the time, so every app writes here
without this app knowing any of them, and the trail still reads after a record is gone. Rows are append-only: they
are never updated or deleted, by the application or the admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AppendOnlyError(Exception):
    """Raised by any attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are never changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are never deleted")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        # Records
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        SUBMITTED = "submitted", "Submitted for review"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned to draft"
        TERMINATED = "terminated", "Terminated"
        EXPIRED = "expired", "Expired"
        SUPERSEDED = "superseded", "Superseded"
        DOCUMENT_ADDED = "document_added", "Document added"
        ACCESS_GRANTED = "access_granted", "Access granted"
        ACCESS_REVOKED = "access_revoked", "Access revoked"
        ACTIVATED = "activated", "Activated"
        NOT_PERMITTED = "not_permitted", "No longer permitted"
        CLOSED = "closed", "Closed"
        # Amendments to approved agreements
        AMENDMENT_PROPOSED = "amendment_proposed", "Amendment proposed"
        AMENDMENT_UPDATED = "amendment_updated", "Amendment changed"
        AMENDMENT_SUBMITTED = "amendment_submitted", "Amendment submitted for review"
        AMENDMENT_RETURNED = "amendment_returned", "Amendment returned"
        AMENDMENT_WITHDRAWN = "amendment_withdrawn", "Amendment withdrawn"
        AMENDMENT_APPROVED = "amendment_approved", "Amendment approved"
        # Publishing
        REGISTER_CHANGED = "register_changed", "Register wording changed"
        PUBLICATION_REQUESTED = "publication_requested", "Publication requested"
        PREVIEW_REQUESTED = "preview_requested", "Preview requested"
        PUBLISHED = "published", "Edition published"
        PUBLICATION_FAILED = "publication_failed", "Publication failed"
        WITHDRAWN = "withdrawn", "Edition withdrawn"
        # Staff reading the register out of the portal
        EXPORTED = "exported", "Register exported"
        DOCUMENT_DOWNLOADED = "document_downloaded", "Signed document downloaded"
        RETENTION_APPLIED = "retention_applied", "Events past the retention period removed"
        # Sign-in and accounts
        SIGNED_IN = "signed_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        LOCKOUT_CLEARED = "lockout_cleared", "Lockout cleared"
        MFA_ENROLLED = "mfa_enrolled", "Second factor added"
        MFA_FAILED = "mfa_failed", "Second factor failed"
        MFA_RESET = "mfa_reset", "Second factor reset"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        INVITED = "invited", "Invited"
        INVITATION_RESENT = "invitation_resent", "Invitation sent again"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        ROLE_CHANGED = "role_changed", "Role changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        REACTIVATED = "reactivated", "Account reactivated"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text="Empty when the system made the change (a scheduled task).",
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    # What the record was called when this happened, e.g. "SL/25/1: Leicester City Council population health".
    subject_label = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    reason = models.TextField(blank=True)
    # {"Field label": ["old", "new"]}, values as shown to people.
    changes = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "-at"], name="audit_subject_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["action", "-at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_name} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Audit events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are never deleted")

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor else "System"
