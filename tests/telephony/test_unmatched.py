"""Calls whose PBX employee matched nobody: listed for the admin, assigned, remembered on
the employee's card, and then counted in their figures."""

import datetime
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import User
from crm_sync.models import Call
from reports.models import ImportedFigure
from tests.telephony.conftest import load, mango_post

DAY = datetime.date(2026, 12, 1)


def figure(cast, manager: User, code: str) -> Decimal | None:
    with tenancy.tenant_context(cast.company):
        row = ImportedFigure.objects.filter(
            company=cast.company, manager=manager, date=DAY, kpi__code=code
        ).first()
        return row.value if row else None


def test_an_unmatched_extension_is_listed_assigned_remembered_and_counted(alpha, pbx, client):
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.managers[0].pk).update(extension="")  # 101 is nobody now
    for event in load("mango")["outgoing_answered"]:
        mango_post(Client(), pbx["mango"], event)
    with tenancy.tenant_context(alpha.company):
        call = Call.objects.get(company=alpha.company, pbx_call_id="MjkxMDU0Nzk2Mzo0MDE=")
    assert call.manager is None and call.pbx_user == "ext:101"

    client.force_login(alpha.admin)
    page = client.get(reverse("telephony-unmatched"))
    assert page.status_code == 200 and "внутр. 101" in page.content.decode()

    manager = alpha.managers[0]
    response = client.post(
        reverse("telephony-unmatched"), {"pbx_user": "ext:101", "manager": manager.pk}
    )
    assert response.status_code == 302
    with tenancy.tenant_context(alpha.company):
        call.refresh_from_db()
        manager.refresh_from_db()
    assert call.manager_id == manager.pk and call.pbx_user == ""
    assert manager.extension == "101"  # remembered: the next call finds them
    assert figure(alpha, manager, "talk_time") == Decimal(180)
    assert "внутр. 101" not in client.get(reverse("telephony-unmatched")).content.decode()

    for event in load("mango")["incoming_missed"]:
        mango_post(Client(), pbx["mango"], event)
    with tenancy.tenant_context(alpha.company):
        missed = Call.objects.get(company=alpha.company, pbx_call_id="MjkxMDU0Nzk2Mzo0MDI=")
    assert missed.manager_id == manager.pk


def test_the_mapping_screen_is_for_admins(alpha, client):
    client.force_login(alpha.managers[0])
    assert client.get(reverse("telephony-unmatched")).status_code == 403


def test_an_extension_is_unique_in_the_company(alpha, client):
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.managers[1].pk).update(
            extension="102", phone_numbers="79005550302"
        )
    client.force_login(alpha.admin)
    target = alpha.managers[0]
    form = {
        "first_name": target.first_name, "last_name": target.last_name,
        "username": target.username, "email": target.email, "role": target.role,
        "team": target.team_id or "", "sales_role": target.sales_role_id or "",
        "is_active": "on", "extension": "102", "sip_login": "",
        "phone_numbers": "8 (900) 555-03-02",
    }  # fmt: skip
    page = client.post(reverse("user-edit", args=[target.code]), form)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Внутренний номер 102 уже у другого сотрудника." in text
    assert "Номер 79005550302 уже у другого сотрудника." in text

    form.update(extension="103", phone_numbers="+7 900 555-03-03, 8 900 555 03 04")
    assert client.post(reverse("user-edit", args=[target.code]), form).status_code == 302
    with tenancy.tenant_context(alpha.company):
        target.refresh_from_db()
    assert (target.extension, target.phone_numbers) == ("103", "79005550303,79005550304")
