"""The demo registers' wording: the Sub Licence Release Register introduction exactly as the LLR ICB publishes
it (shared/seeds/000_*). Called by `manage.py load_demo`.

It only replaces the kind's default introduction, so wording the IG team has edited is never overwritten, and a
second run changes nothing.
"""

from __future__ import annotations

from publishing.models import Register
from publishing.registers import register_kind
from publishing.services import register_ensure

SUB_LICENCE_INTRODUCTION = """\
The Leicester, Leicestershire and Rutland Integrated Care Board (LLR ICB) receive pseudonymised data from NHS \
England under a Data Sharing Agreement for the purposes of commissioning health and care services for the \
population of Leicester, Leicestershire and Rutland. Pseudonymised data is data that has been processed so that it \
cannot be attributed to a specific individual, identifiers are replaced with a unique number or code (a pseudonym).

Sub Licensing is a process through which the data shared by NHS England with the LLR ICB can be shared with partner \
organisations within the Leicester, Leicestershire and Rutland Integrated Care System (LLR ICS) to collectively \
meet the needs of the population.

Sub Licensing enables partners across the LLR ICS to collaborate more effectively in improving services for the \
population of Leicester, Leicestershire and Rutland. Having access to linked data from various sectors such as \
hospitals, GPs, and social care providers, is crucial for gaining a complete understanding of patient needs and \
service gaps.

By sharing pseudonymised data, partner organisations are able to use the same information for service planning, \
improving care coordination and addressing public health issues in a more unified way.

Ultimately, the Sub Licensing process leads to a more integrated and efficient healthcare system that can better \
allocate resources and improve patient outcomes.

The LLR ICB has a robust process in place for Sub Licensing arrangements with partner organisations within the \
Leicester, Leicestershire and Rutland Integrated Care System (ICS).

Sub Licensing will be implemented through a formal agreement that enables the sharing of pseudonymised data with \
the partner organisation. The agreement adheres to strict legal and ethical guidelines including compliance with \
NHS England\u2019s Data Sharing Framework and data protection laws, ensuring the highest protection of individuals' \
privacy and confidentiality."""


# The rest of the register's wording, as the seed has it (page 2).
SUB_LICENCE_WORDING = {
    "introduction": SUB_LICENCE_INTRODUCTION,
    "heading": "Sub Licensing Release Register",
    "table_lead": (
        "The LLR ICB\u2019s list of current Sub Licensees is set out within the Sub Licence Release Register table "
        "below. The register is updated quarterly."
    ),
    "privacy_notice_sentence": (
        "For further information on how the LLR ICB uses data for Sub Licensing purposes, please refer to the LLR "
        "ICB Public Privacy Notice"
    ),
    "privacy_notice_title": "LLR-ICB-CORP-018-LLR-ICB-PUBLIC-Privacy-Notice-August-2025-v1.7-FINAL.pdf",
    "team_name": "Corporate Governance Team",
    "contact_sentence": (
        "If you have any questions about Sub Licensing, please contact the LLR ICB\u2019s {team} via the below "
        "email address:"
    ),
}


def load_demo_wording() -> None:
    register = register_ensure(slug="sub-licences")
    Register.objects.filter(pk=register.pk, introduction=register_kind("sub-licences").default_introduction).update(
        **SUB_LICENCE_WORDING
    )
