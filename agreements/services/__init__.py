"""Every write to the register. Each service is one transaction that leaves one AuditEvent.

Services take the acting user (None for the system) and a reason, validate fully before writing, and raise
django.core.exceptions.ValidationError with a plain message when a rule is broken. Views only call them.

One module per area: organisations, references (reference numbers), agreements, amendments, documents, imports (bulk
import of an existing register) and linkages; _history holds the private helpers they share. Callers import
from here: `from agreements import services; services.agreement_create(...)`.
"""

from agreements.services._history import Action
from agreements.services.agreements import (
    Status,
    agreement_approve,
    agreement_create,
    agreement_return,
    agreement_submit,
    agreement_supersede,
    agreement_terminate,
    agreement_update,
    agreements_expire,
    sub_licence_create,
)
from agreements.services.amendments import (
    agreement_change,
    agreement_supersede_request,
    agreement_terminate_or_request,
    amendment_approve,
    amendment_changes,
    amendment_comparison,
    amendment_propose,
    amendment_return,
    amendment_submit,
    amendment_update,
    amendment_withdraw,
)
from agreements.services.catalogue import catalogue_save
from agreements.services.documents import PDF_MAGIC, amendment_document_add, document_add, document_open
from agreements.services.imports import ImportResult, spreadsheet_import
from agreements.services.linkages import (
    LinkageStatus,
    linkage_activate,
    linkage_close,
    linkage_create,
    linkage_update,
    linkages_recheck,
)
from agreements.services.organisations import (
    organisation_create,
    organisation_name_clean,
    organisation_update,
    partner_contact_grant,
    partner_contact_revoke,
)
from agreements.services.references import reference_allocate, reference_reserve

__all__ = [
    "PDF_MAGIC",
    "Action",
    "ImportResult",
    "LinkageStatus",
    "Status",
    "agreement_approve",
    "agreement_change",
    "agreement_create",
    "agreement_return",
    "agreement_submit",
    "agreement_supersede",
    "agreement_supersede_request",
    "agreement_terminate",
    "agreement_terminate_or_request",
    "agreement_update",
    "agreements_expire",
    "amendment_approve",
    "amendment_changes",
    "amendment_comparison",
    "amendment_document_add",
    "amendment_propose",
    "amendment_return",
    "amendment_submit",
    "amendment_update",
    "amendment_withdraw",
    "catalogue_save",
    "document_add",
    "document_open",
    "linkage_activate",
    "linkage_close",
    "linkage_create",
    "linkage_update",
    "linkages_recheck",
    "organisation_create",
    "organisation_name_clean",
    "organisation_update",
    "partner_contact_grant",
    "partner_contact_revoke",
    "reference_allocate",
    "reference_reserve",
    "spreadsheet_import",
    "sub_licence_create",
]
