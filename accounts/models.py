"""Invitations: how the IG lead gives someone an account without a terminal."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Invitation(models.Model):
    """An e-mailed link that lets one person choose a password and so create their account, with the role the IG
    lead chose. The link names the invitation and a key; resending it changes the key, so an older link stops
    working. It expires INVITATION_MAX_AGE after it was (last) sent."""

    class Role(models.TextChoices):
        IG_OFFICER = "IG officer", "IG officer"
        IG_APPROVER = "IG approver", "IG approver"
        AUDITOR = "Auditor", "Auditor"
        IG_LEAD = "IG lead", "IG lead"
        PARTNER_CONTACT = "partner", "Partner contact"

    email = models.EmailField("E-mail address")
    role = models.CharField(max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        "agreements.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="For a partner contact: the organisation whose agreements they see.",
    )
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="invitation"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        permissions = [("manage_users", "Can invite users, change their roles and reset their sign-in")]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role="partner") & models.Q(organisation__isnull=False))
                | (~models.Q(role="partner") & models.Q(organisation__isnull=True)),
                name="invitation_partner_has_organisation",
                violation_error_message="A partner contact's invitation names the organisation, and only theirs does.",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email} ({self.get_role_display()})"
