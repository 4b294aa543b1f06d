"""The permitted purposes for each category of non-health data an ICB may link, as NHS England publishes them in
"Supported non-health data linkages" (last edited 4 September 2025; shared/seeds/004_*). NHS England says the lists
are "not exhaustive"; the register holds exactly these, and a change to the guidance is a new data migration.
"""

from django.db import migrations

PURPOSES = {
    "childrens_social_care": [
        "evaluate health outcomes for individuals receiving early help or social care, enabling better understanding "
        "of their experiences across the health and care system and informing improvements in service delivery and "
        "coordination",
        "understand connections between individuals receiving social care and their use of other health and care "
        "services",
        "identify children who may require social care services, and to identify families eligible for targeted "
        "support programmes such as Families Together and Supporting Families",
        "uncover and address inequalities affecting specific groups, by examining social determinants and their "
        "impact on outcomes across different service pathways and linked datasets",
        "assess the health consequences of unmet developmental needs, supporting the design of more effective, "
        "cross-organisational interventions that respond to these gaps early and holistically",
    ],
    "education": [
        "analyse the relationship between education attendance, academic attainment, and health service demand, in "
        "order to help identify children whose educational challenges may be linked to health issues",
        "to evaluate the impact of family focused interventions on children's attendance and attainment, enabling "
        "assessment of whether these programmes are improving educational and wellbeing outcomes",
        "identify health inequalities based on eligibility for free school meals across the different datasets in "
        "the model",
        "use SEND data as a reference point for identifying children with special educational needs across other "
        "datasets, in order to understand how their health outcomes differ, or demand of health services differs "
        "helps to inform future health service design",
    ],
    "housing": [
        "to create early indicators of heightened risk factors for poor health outcomes",
        "understand any relationships between housing arrangements and different health outcomes",
        "understand impact of local interventions on improving housing situation",
        "understand where it may be beneficial to target particular housing interventions (for example the "
        "installation of insulation and upgraded central heating may need to be prioritised, so it may be "
        "beneficial to design the programme so that those with diagnosed respiratory problems receive support "
        "first)",
    ],
    "childrens_youth_offer": [
        "to identify and better support vulnerable young people, in whom the academic literature suggests the "
        "prevalence of mental ill health is extraordinarily high, but who in reality may not be receiving support "
        "from mental health services",
        "understand any health and wellbeing impact of targeted interventions",
        "identify health inequalities based on access (or lack of access) to services",
        "understand the scale and extent to which a wide range of health needs and health service usage patterns "
        "may be present in this group of vulnerable young people use this knowledge to improve planning and access "
        "to services",
        "to inform targeted prevention programmes like nutritional support or mental health initiatives in schools, "
        "reducing the need for crisis care",
    ],
}


def load(apps, schema_editor):
    PermittedPurpose = apps.get_model("agreements", "PermittedPurpose")
    for category, texts in PURPOSES.items():
        for position, text in enumerate(texts, start=1):
            PermittedPurpose.objects.update_or_create(category=category, position=position, defaults={"text": text})


def unload(apps, schema_editor):
    PermittedPurpose = apps.get_model("agreements", "PermittedPurpose")
    PermittedPurpose.objects.filter(category__in=list(PURPOSES)).delete()


class Migration(migrations.Migration):
    dependencies = [("agreements", "0002_linkages_and_reminders")]

    operations = [migrations.RunPython(load, unload)]
