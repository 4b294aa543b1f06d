import pytest
from django.core.management import call_command

from demo.publishing import SUB_LICENCE_INTRODUCTION
from publishing.models import Register

pytestmark = pytest.mark.django_db


def test_load_demo_uses_the_published_registers_introduction(settings) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    register = Register.objects.get(slug="sub-licences")
    assert register.introduction == SUB_LICENCE_INTRODUCTION
    assert register.introduction.startswith(
        "The Leicester, Leicestershire and Rutland Integrated Care Board (LLR ICB) receive pseudonymised data"
    )
    assert register.introduction.count("\n\n") == 6  # the seed's seven paragraphs


def test_load_demo_never_overwrites_wording_the_ig_team_edited(settings) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    Register.objects.filter(slug="sub-licences").update(introduction="Our own words.")
    call_command("load_demo")
    assert Register.objects.get(slug="sub-licences").introduction == "Our own words."
