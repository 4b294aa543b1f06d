"""The data-request log (seed 003): who asked for what, when, what was decided and why.

Models hold field-level validation and the constraints the database can keep. Every write goes through
datarequests.services, which also records the RequestEvent (the dated fact, for the timeline) and the AuditEvent
(who recorded it, when and why). The workflow itself is the table in datarequests.workflow.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q

from agreements.models import Agreement, Organisation

DATA_REQUEST_PREFIX = "DR"
DATA_REQUEST_REFERENCE_RE = re.compile(r"^DR/(\d{2})/(\d+)$")

# Defaults when the organisation asked has no ResponseTargets row. Working days, England and Wales.
DEFAULT_ACKNOWLEDGE_DAYS = 5
DEFAULT_DECIDE_DAYS = 20
# Calendar days a clarification may stay unanswered before the request lapses.
DEFAULT_LAPSE_AFTER_DAYS = 28


class ResponseTargets(models.Model):
    """The targets an organisation sets itself for answering data requests."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="response_targets")
    acknowledge_days = models.PositiveSmallIntegerField(
        "Acknowledge within (working days)", default=DEFAULT_ACKNOWLEDGE_DAYS
    )
    decide_days = models.PositiveSmallIntegerField("Decide within (working days)", default=DEFAULT_DECIDE_DAYS)
    lapse_after_days = models.PositiveSmallIntegerField(
        "Lapse an unanswered clarification after (days)", default=DEFAULT_LAPSE_AFTER_DAYS
    )

    class Meta:
        verbose_name_plural = "response targets"
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledge_days__gte=1) & Q(decide_days__gte=1) & Q(lapse_after_days__gte=1),
                name="response_targets_positive",
            )
        ]

    def __str__(self) -> str:
        return f"Targets for {self.organisation.name}"


class DataSharingGroup(models.Model):
    """A standing group that coordinates requests, e.g. the LLR data sharing group chaired by Blaby."""

    name = models.CharField(max_length=200, unique=True)
    chair = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="groups_chaired", verbose_name="Chair organisation"
    )
    members = models.ManyToManyField(Organisation, related_name="data_sharing_groups", verbose_name="Members")
    terms_of_reference_url = models.URLField("Terms of reference link", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Meeting(models.Model):
    """A meeting at which requests were raised or discussed; of a group, or a one-off (the 6 March meeting)."""

    group = models.ForeignKey(
        DataSharingGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings"
    )
    title = models.CharField(max_length=200)
    held_on = models.DateField("Date")
    attendees = models.TextField(blank=True, help_text="Who attended, one a line.")
    organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="meetings", verbose_name="Organisations represented"
    )
    decisions = models.TextField("Decisions taken", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on:%Y-%m-%d})"


class MeetingAction(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=200, help_text="The person or organisation who will do it.")
    due_on = models.DateField("Due date")
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.description[:60]


class DataRequest(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        UNDER_ASSESSMENT = "under_assessment", "Under assessment"
        CLARIFICATION_REQUESTED = "clarification", "Clarification requested"
        ON_HOLD = "on_hold", "On hold"
        DECIDED = "decided", "Decided"
        AGREEMENT_PENDING = "agreement_pending", "Agreement pending"
        FULFILLED = "fulfilled", "Fulfilled"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LAPSED = "lapsed", "Lapsed"

    class Channel(models.TextChoices):
        MEETING = "meeting", "Meeting"
        LETTER = "letter", "Letter"
        EMAIL = "email", "E-mail"
        FORM = "form", "Form"
        OTHER = "other", "Other"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    responder = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="data_requests_received",
        verbose_name="Organisation asked",
        help_text="The organisation the request is made to; its response targets apply.",
    )
    requesters = models.ManyToManyField(
        Organisation, related_name="data_requests_made", verbose_name="Requesting organisations"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_on = models.DateField("Date received")
    discussed_at = models.ManyToManyField(
        Meeting, blank=True, related_name="requests_discussed", verbose_name="Discussed at meetings"
    )
    raised_at = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests_raised",
        verbose_name="Raised at meeting",
    )
    contact_name = models.CharField("Named contact", max_length=200)
    contact_email = models.EmailField("Contact e-mail", blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="data_requests_handled",
        verbose_name="Handled by",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, editable=False)
    # While paused (clarification, hold): the status the request returns to.
    resume_status = models.CharField(max_length=20, choices=Status.choices, blank=True, editable=False)
    hold_reason = models.CharField(max_length=300, blank=True, editable=False)
    hold_until = models.DateField(null=True, blank=True, editable=False)
    # What a pending clarification asks about ("rationale"), for the lapse wording.
    clarification_topic = models.CharField(max_length=200, blank=True, editable=False)
    creation_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        permissions = [
            ("handle_datarequest", "Handle data requests (move them through the workflow)"),
            ("decide_personal_datarequest", "Approve decisions on personal data line items"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="on_hold") | (Q(hold_until__isnull=False) & ~Q(hold_reason="")),
                name="data_request_hold_has_reason_and_date",
            )
        ]
        indexes = [models.Index(fields=["status", "received_on"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"


class LineItem(models.Model):
    class Category(models.TextChoices):
        NON_PERSONAL = "non_personal", "Non-personal"
        PERSONAL = "personal", "Personal"
        SPECIAL = "special", "Special category"

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="line_items")
    position = models.PositiveSmallIntegerField()
    description = models.TextField("What is asked for")
    geography = models.CharField(max_length=100, blank=True, help_text="For example MSOA or district.")
    period = models.CharField(max_length=100, blank=True, help_text="For example 2024-25.")
    data_category = models.CharField("Kind of data", max_length=20, choices=Category.choices)
    purpose = models.TextField(blank=True)
    article_6_basis = models.CharField(
        "UK GDPR Article 6 basis", max_length=10, choices=Agreement.Article6.choices, blank=True
    )
    article_9_condition = models.CharField(
        "UK GDPR Article 9 condition", max_length=10, choices=Agreement.Article9.choices, blank=True
    )
    necessity = models.TextField("Why it is necessary", blank=True)
    dpia_needed = models.BooleanField("DPIA needed", default=False)
    agreements = models.ManyToManyField(
        Agreement, blank=True, related_name="line_items_served", verbose_name="Agreements that cover it"
    )
    fulfilled_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="line_item_unique_position"),
            # Special category data needs an Article 9 condition; other data has none.
            models.CheckConstraint(
                condition=(Q(data_category="special") & ~Q(article_9_condition=""))
                | (~Q(data_category="special") & Q(article_9_condition="")),
                name="line_item_article_9_iff_special",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description[:80]}"

    @property
    def is_personal(self) -> bool:
        return self.data_category != self.Category.NON_PERSONAL


class Decision(models.Model):
    """The decision on one line item. Personal data needs a second person to approve it (four eyes); until then
    it is proposed. A newer decision (after a reopen) supersedes the old one, which is kept."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        APPROVED_WITH_CONDITIONS = "approved_conditions", "Approved with conditions"
        PARTLY_APPROVED = "partly_approved", "Partly approved"
        PUBLICLY_AVAILABLE = "public", "Already publicly available"
        REFUSED = "refused", "Refused"
        REFERRED = "referred", "Referred elsewhere"

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed, awaiting a second approver"
        CONFIRMED = "confirmed", "Confirmed"
        RETURNED = "returned", "Returned by the approver"
        SUPERSEDED = "superseded", "Superseded"

    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField("Why", help_text="The reasons for the decision.")
    conditions = models.TextField(blank=True)
    public_link = models.URLField("Where it is published", blank=True)
    referred_to = models.CharField("Referred to", max_length=200, blank=True)
    decided_on = models.DateField("Date of decision")
    state = models.CharField(max_length=20, choices=State.choices, editable=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_decisions_proposed"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="data_decisions_approved",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line_item", "created_at", "pk"]
        constraints = [
            # At most one confirmed decision per line item, and one waiting for approval (after a reopen, a
            # proposed decision sits beside the confirmed one it will supersede).
            models.UniqueConstraint(
                fields=["line_item"], condition=Q(state="confirmed"), name="decision_one_confirmed_per_line_item"
            ),
            models.UniqueConstraint(
                fields=["line_item"], condition=Q(state="proposed"), name="decision_one_proposed_per_line_item"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="public") | ~Q(public_link=""), name="decision_public_has_link"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="referred") | ~Q(referred_to=""), name="decision_referred_has_whom"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="approved_conditions") | ~Q(conditions=""),
                name="decision_conditions_given",
            ),
            # Four eyes, kept by the database too: the approver is never the proposer.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("proposed_by")),
                name="decision_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.get_state_display()})"

    @property
    def grants_data(self) -> bool:
        """Whether the data is to be provided, so the line item waits to be fulfilled."""
        return self.outcome in DECISIONS_THAT_GRANT


DECISIONS_THAT_GRANT = {
    Decision.Outcome.APPROVED,
    Decision.Outcome.APPROVED_WITH_CONDITIONS,
    Decision.Outcome.PARTLY_APPROVED,
}


class RequestEvent(models.Model):
    """One dated fact in a request's life: the timeline's source. `on` is when it happened (a letter may be logged
    days later); the AuditEvent written beside it says who recorded it and when."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "Received"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ASSESSMENT_STARTED = "assessment", "Assessment started"
        CLARIFICATION_REQUESTED = "clarification", "Clarification asked"
        CLARIFICATION_ANSWERED = "answered", "Clarification answered"
        HELD = "held", "Put on hold"
        RESUMED = "resumed", "Resumed"
        LINE_ITEM_DECIDED = "item_decided", "Line item decided"
        DECIDED = "decided", "Decided"
        AGREEMENT_PENDING = "agreement_pending", "Waiting for an agreement"
        LINE_ITEM_FULFILLED = "item_fulfilled", "Line item fulfilled"
        FULFILLED = "fulfilled", "Fulfilled"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LAPSED = "lapsed", "Lapsed"
        REOPENED = "reopened", "Reopened"

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    on = models.DateField()
    note = models.TextField(blank=True)
    from_status = models.CharField(max_length=20, choices=DataRequest.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=DataRequest.Status.choices, blank=True)
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "pk"]
        indexes = [models.Index(fields=["request", "on"])]

    def __str__(self) -> str:
        return f"{self.request.reference} {self.get_kind_display()} {self.on:%Y-%m-%d}"
