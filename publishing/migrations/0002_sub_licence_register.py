"""The Sub Licence Release Register exists from the first migrate, so the staff area and `make run` can publish it."""

from django.conf import settings
from django.db import migrations

# Frozen here rather than imported, so that this migration keeps working whatever the register code becomes.
INTRODUCTION = (
    "The integrated care board (ICB) receives pseudonymised data from NHS England under a Data Sharing "
    "Agreement for the purposes of commissioning health and care services for its population. Pseudonymised "
    "data is data that has been processed so that it cannot be attributed to a specific individual: "
    "identifiers are replaced with a unique number or code (a pseudonym).\n\n"
    "Sub Licensing is a process through which the data shared by NHS England with the ICB can be shared with "
    "partner organisations within the integrated care system to collectively meet the needs of the "
    "population.\n\n"
    "Sub Licensing will be implemented through a formal agreement that enables the sharing of pseudonymised "
    "data with the partner organisation. The agreement adheres to strict legal and ethical guidelines, "
    "including compliance with NHS England's Data Sharing Framework and data protection laws, ensuring the "
    "highest protection of individuals' privacy and confidentiality."
)


def create_register(apps, schema_editor):
    Register = apps.get_model("publishing", "Register")
    Register.objects.get_or_create(
        slug="sub-licences",
        defaults={
            "title": "Sub Licence Release Register",
            "organisation_name": settings.PORTAL_ORGANISATION_NAME,
            "introduction": INTRODUCTION,
            "contact_email": settings.REGISTER_CONTACT_EMAIL,
            "privacy_notice_url": settings.REGISTER_PRIVACY_NOTICE_URL,
            "privacy_notice_title": "Public Privacy Notice",
            "cadence": "quarterly",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("publishing", "0001_initial")]

    operations = [migrations.RunPython(create_register, migrations.RunPython.noop)]
