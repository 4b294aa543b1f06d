import pytest
from django.core.management import call_command

from agreements.models import Agreement, Organisation, Party
from agreements.selectors import agreement_list
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    return {
        "organisations": Organisation.objects.count(),
        "agreements": Agreement.objects.count(),
        "parties": Party.objects.count(),
        "events": AuditEvent.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_load_demo_twice_leaves_one_copy(settings, capsys) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    first = _counts()
    call_command("load_demo")
    assert _counts() == first
    out = capsys.readouterr().out
    assert "ig-officer" in out and "register-demo" in out


def test_load_demo_is_exactly_the_published_register(settings) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    sub_licence = Agreement.objects.get(reference="SL/25/1")
    assert sub_licence.kind == Agreement.Kind.SUB_LICENCE
    assert sub_licence.status == Agreement.Status.ACTIVE
    assert sub_licence.data_level == "pseudonymised"
    assert sub_licence.parent.reference.startswith("DARS-NIC-")
    licensee = sub_licence.parties.get(role=Party.Role.SUB_LICENSEE).organisation
    assert (licensee.name, licensee.ods_code) == ("Leicester City Council", "509")
    assert Organisation.objects.get(ods_code="QK1").name == "NHS Leicester, Leicestershire and Rutland ICB"
    assert list(Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE).values_list("reference", flat=True)) == [
        "SL/25/1"
    ]


def test_demo_accounts_have_their_roles(settings) -> None:
    from django.contrib.auth import get_user_model

    settings.DEVELOPMENT = True
    call_command("load_demo")
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["ig-officer"].check_password("register-demo")
    assert users["ig-approver"].has_perm("agreements.approve_agreement")
    assert not users["ig-officer"].has_perm("agreements.approve_agreement")
    assert users["auditor"].has_perm("agreements.view_agreement")
    assert not users["auditor"].has_perm("agreements.change_agreement")
    partner_sees = set(agreement_list(user=users["lcc-partner"]).values_list("reference", flat=True))
    # The council's own agreements: its sub-licence, the DSA behind the demo linkage, its statutory return to NHS
    # England and the hospital discharge ISA.
    assert partner_sees == {"SL/25/1", "DSA-LLR-2025-009", "SR-LCC-ASC-CLD", "ISA-LLR-2025-003"}


def test_without_debug_no_demo_accounts_are_created(settings, capsys) -> None:
    from django.contrib.auth import get_user_model

    settings.DEVELOPMENT = False
    call_command("load_demo")
    assert not get_user_model().objects.filter(username="ig-officer").exists()
    assert Agreement.objects.get(reference="SL/25/1").status == Agreement.Status.ACTIVE
    assert "no demo accounts" in capsys.readouterr().out


def test_grant_partner_contact_command() -> None:
    from django.core.management.base import CommandError

    from tests.factories import OrganisationFactory, UserFactory

    user, organisation = UserFactory(username="jo"), OrganisationFactory(ods_code="509")
    call_command("grant_partner_contact", "jo", " 509 ")
    assert user.has_perm("agreements.act_for_organisation", organisation)
    with pytest.raises(CommandError, match="no organisation with ODS code"):
        call_command("grant_partner_contact", "jo", "ZZZ")
    with pytest.raises(CommandError, match="no user called"):
        call_command("grant_partner_contact", "nobody", "509")


@pytest.mark.parametrize("today", ["2026-11-30 09:00 +0000", "2027-06-15 09:00 +0100"])
def test_a_fresh_demo_opens_with_no_review_overdue_whatever_the_date(settings, today: str) -> None:
    import time_machine

    from agreements.selectors import agreements_review_overdue

    with time_machine.travel(today):
        call_command("load_demo")
        assert list(agreements_review_overdue().values_list("reference", flat=True)) == []
        assert Agreement.objects.filter(status=Agreement.Status.ACTIVE, review_date__isnull=False).exists()
