"""The Information Sharing Register ("Organisations we share data with") exists from migrate, like the first."""

from django.conf import settings
from django.db import migrations

# Frozen here rather than imported, so that this migration keeps working whatever the register code becomes.
INTRODUCTION = (
    "We share information with other organisations when it helps us to plan, pay for and provide health and "
    "care services for you, and when the law says we must. Each time we share, an agreement sets out what is "
    "shared, why, and how it is kept safe.\n\n"
    "This register lists the organisations we share data with. It covers our information sharing agreements, "
    "our data sharing agreements, and the statutory returns the law requires us to send to government and to "
    "NHS England. For each one it shows what we share and why, how identifiable the data is, the law that "
    "allows it, and whether the national data opt-out applies. We update this register every year.\n\n"
    "The national data opt-out lets you choose whether your confidential patient information is used for "
    "research and planning. It does not apply where the law requires us to share data, such as a statutory "
    "return; the register says so where this is the case. You can find out more, or set your choice, at "
    "www.nhs.uk/your-nhs-data-matters."
)


def create_register(apps, schema_editor):
    Register = apps.get_model("publishing", "Register")
    Register.objects.get_or_create(
        slug="information-sharing",
        defaults={
            "title": "Information Sharing Register",
            "organisation_name": settings.PORTAL_ORGANISATION_NAME,
            "introduction": INTRODUCTION,
            "contact_email": settings.REGISTER_CONTACT_EMAIL,
            "privacy_notice_url": settings.REGISTER_PRIVACY_NOTICE_URL,
            "privacy_notice_title": "Public Privacy Notice",
            "cadence": "annually",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("publishing", "0003_edition_entries")]

    operations = [migrations.RunPython(create_register, migrations.RunPython.noop)]
