"""Bitrix24 leads where a department works leads before deals: the admin's setting, the
portal's mode, the pull, the lead events, deletions, a conversion, a user matched later, and
the «leads created» the report form is prefilled with."""

import datetime
import inspect
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import tenancy
from accounts.models import User
from crm_sync import connectors, mapping, vendors
from crm_sync.models import CRMConnection, CRMUserLink, Deal, Lead
from crm_sync.vendors.base import LeadVendor, Skip
from crm_sync.vendors.bitrix24 import lead_data
from crm_sync.vendors.reference import Reference
from kpi.models import KPI
from reports.models import ImportedFigure
from reports.selectors import report_form
from tests.crm_sync.fake_crm import form
from tests.crm_sync.test_connectors_pull import deals, pull, reload
from tests.crm_sync.test_connectors_webhooks import FORM, bitrix_url, eager  # noqa: F401

MSK = datetime.timezone(datetime.timedelta(hours=3))


def leads_url(connection: CRMConnection) -> str:
    return reverse("crm-connection-leads", args=[connection.code])


def leads_of(cast) -> dict[str, Lead]:
    with tenancy.tenant_context(cast.company):
        found = Lead.objects.filter(company=cast.company).select_related("manager")
        return {lead.external_id: lead for lead in found}


def leads_created(cast, manager: User, day: str) -> Decimal | None:
    """The «leads created» figure the CRM supplied for the manager's day (the prefill)."""
    with tenancy.tenant_context(cast.company):
        figure = ImportedFigure.objects.filter(
            company=cast.company, manager=manager, kpi__code="leads",
            date=datetime.date.fromisoformat(day),
        ).first()  # fmt: skip
    return figure.value if figure else None


def without_cast_records(cast) -> None:
    """The cast's own deals and leads are not in the hand-computed tables."""
    with tenancy.tenant_context(cast.company):
        Deal.objects.filter(company=cast.company).delete()
        Lead.objects.filter(company=cast.company).delete()


def set_leads(connection: CRMConnection, works_leads: bool) -> None:
    with tenancy.tenant_context(connection.company_id):
        connectors.connection_leads_set(
            connection=CRMConnection.objects.get(pk=connection.pk), works_leads=works_leads
        )


def on_fake_portal(body: bytes, fake) -> bytes:
    """An event as the fake's portal sends it: its domain is the connection's."""
    return body.replace(b"example.bitrix24.ru", fake.url.removeprefix("http://").encode())


@pytest.mark.usefixtures("eager")  # the webhook batch runs in the request
def test_leads_pulled_and_evented_give_the_hand_computed_prefill(
    client, alpha, fake, bitrix, django_capture_on_commit_callbacks
):
    first, second, third = alpha.managers
    without_cast_records(alpha)
    client.force_login(alpha.admin)

    # The admin says the department works leads; the pull that reads them is queued.
    page = client.get(leads_url(bitrix))
    assert page.status_code == 200 and "Отдел работает с лидами" in page.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(leads_url(bitrix), {"works_leads": "on"})
    assert response.status_code == 302 and len(queued) == 1
    assert "по лидам Битрикс24" in client.get(reverse("crm-connections")).content.decode()

    # The pull asks the portal's mode, then reads the leads by keyset, like the deals.
    result = pull(bitrix)

    assert reload(bitrix).crm_has_leads is True
    assert len(fake.requests_to("crm.settings.mode.get")) == 1
    assert len(fake.requests_to("crm.lead.list")) >= 3  # 5 leads, 2 a page
    stored = leads_of(alpha)
    assert set(stored) == {"501", "502", "503", "504", "505"}
    assert (stored["502"].status, stored["502"].status_id) == ("converted", "CONVERTED")
    assert stored["502"].closed_at == datetime.datetime(2026, 11, 2, 10, tzinfo=MSK)
    assert (stored["503"].status, stored["501"].status) == ("junk", "open")
    assert (stored["501"].channel, stored["503"].channel) == ("Звонок", "Веб-сайт")
    assert stored["502"].manager == first and stored["505"].manager == second
    assert stored["504"].manager is None and stored["504"].crm_user_id == "11"
    assert reload(bitrix).cursor["leads"]["since"] == "2026-11-04T15:20:00+03:00"
    assert "1201" in deals(alpha, "bitrix24")  # the deal lead 502 became: stored, as a deal
    assert not [error for error in result.errors if error.startswith("Лид")]

    # The partner (CRM user 11) is matched later: their lead is counted, back-filled.
    with tenancy.tenant_context(alpha.company):
        connection = CRMConnection.objects.get(pk=bitrix.pk)
        CRMUserLink.objects.create(
            company=alpha.company, connection=connection, crm_user_id="11", user=third
        )
        moved = mapping.people_backfill(connection=connection, crm_user_id="11", user=third)
    assert moved == 1 and leads_of(alpha)["504"].manager == third

    # Events: lead 501 handed to the second manager, 506 added, 505 deleted.
    lead = next(lead for lead in fake.bitrix_leads if lead["ID"] == "501")
    lead.update(ASSIGNED_BY_ID="9", DATE_MODIFY="2026-11-05T09:00:00+03:00")
    fake.bitrix_leads.append({
        **lead, "ID": "506", "TITLE": "Заявка из чата", "ASSIGNED_BY_ID": "7",
        "DATE_CREATE": "2026-11-05T10:00:00+03:00", "DATE_MODIFY": "2026-11-05T10:00:00+03:00",
    })  # fmt: skip
    fake.bitrix_leads = [lead for lead in fake.bitrix_leads if lead["ID"] != "505"]
    for event in ("update", "add", "delete"):
        body = on_fake_portal(form(f"bitrix24_webhook_lead_{event}.txt"), fake)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(bitrix_url(bitrix), body, content_type=FORM).status_code == 200

    stored = leads_of(alpha)
    assert set(stored) == {"501", "502", "503", "504", "506"}
    assert stored["501"].manager == second and stored["506"].manager == first

    # The prefill, by hand: leads created per responsible manager per Moscow day. Deal 1201
    # (2 Nov, first), converted from lead 502 (1 Nov), is not a lead again; neither is 1202.
    table = {
        (first, "2026-11-01"): 1,  # 502, converted the next day
        (first, "2026-11-02"): 0,  # 501 went to the second manager; the deal 1201 is no lead
        (first, "2026-11-05"): 1,  # 506, by the event
        (second, "2026-11-02"): 1,  # 501
        (second, "2026-11-03"): 1,  # 503 at 01:30 Moscow time (2 Nov in UTC), junk
        (second, "2026-11-04"): 0,  # 505, deleted
        (third, "2026-11-04"): 1,  # 504, matched later
    }
    for (manager, day), expected in table.items():
        assert leads_created(alpha, manager, day) == Decimal(expected), (manager.username, day)
    with tenancy.tenant_context(alpha.company):
        leads = KPI.objects.get(company=alpha.company, code="leads")
        rows = report_form(company=alpha.company, manager=second, day=datetime.date(2026, 11, 3))
        row = next(row for row in rows.rows if row.kpi == leads)
    assert (row.text, row.source) == ("1", "crm")


def test_without_the_setting_deals_are_the_leads_and_no_lead_is_read(alpha, fake, bitrix):
    first = alpha.managers[0]
    without_cast_records(alpha)

    pull(bitrix)

    assert fake.requests_to("crm.lead.list") == fake.requests_to("crm.settings.mode.get") == []
    assert leads_of(alpha) == {}
    assert leads_created(alpha, first, "2026-11-02") == Decimal(1)  # the deal 1201
    event = {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "506"}}}
    assert connectors.webhook_apply(connection=reload(bitrix), payload=event) == []
    set_leads(bitrix, True)
    assert connectors.webhook_apply(connection=reload(bitrix), payload=event) == ["lead:506"]


def test_the_portal_mode_and_the_setting_each_recount_the_days(alpha, fake, bitrix):
    first, second = alpha.managers[:2]
    without_cast_records(alpha)
    set_leads(bitrix, True)
    fake.crm_mode = 2  # «Простая CRM»: no leads on the portal

    pull(bitrix)

    connection = reload(bitrix)
    assert (connection.crm_has_leads, connection.counts_leads) == (False, False)
    assert fake.requests_to("crm.lead.list") == []
    assert leads_created(alpha, second, "2026-11-02") == Decimal(1)  # the deal 1202, as before

    fake.crm_mode = 1  # the classic mode: the leads are read, and the deals' days recounted
    pull(bitrix)

    assert reload(bitrix).counts_leads
    assert leads_created(alpha, first, "2026-11-01") == Decimal(1)  # lead 502
    assert leads_created(alpha, second, "2026-11-02") == Decimal(0)  # no lead; 1202 is a deal

    set_leads(bitrix, False)  # the department stops working leads
    pull(bitrix)

    assert reload(bitrix).cursor["leads_counted"] is False
    assert leads_created(alpha, first, "2026-11-01") == Decimal(0)
    assert leads_created(alpha, second, "2026-11-02") == Decimal(1)  # the deal 1202 again


def test_only_bitrix24_has_the_setting_and_only_an_admin_sets_it(client, alpha, fake, bitrix, amo):
    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError):
        connectors.connection_leads_set(connection=amo, works_leads=True)
    client.force_login(alpha.admin)
    page = client.get(leads_url(amo))  # says why there is nothing to set
    assert page.status_code == 200 and "лиды и есть сделки" in page.content.decode()
    assert client.post(leads_url(amo), {"works_leads": "on"}).status_code == 200
    assert reload(amo).works_leads is False
    assert client.post(leads_url(bitrix), {"works_leads": "on"}).status_code == 302
    assert reload(bitrix).works_leads is True
    assert client.post(leads_url(bitrix), {}).status_code == 302  # the box left unticked
    assert reload(bitrix).works_leads is False
    client.force_login(alpha.head)
    assert client.get(leads_url(bitrix)).status_code in (403, 404)
    assert client.post(leads_url(bitrix), {"works_leads": "on"}).status_code in (403, 404)
    assert reload(bitrix).works_leads is False


def test_a_lead_payload_reads_its_status_by_semantics_else_by_code():
    class Lookup:
        reference = Reference(currency="RUB", catalog={"sources": {"WEB": "Веб-сайт"}})

        def manager(self, crm_user_id):
            return None

    lead = {"ID": "7", "STATUS_ID": "IN_PROCESS", "STATUS_SEMANTIC_ID": "P", "SOURCE_ID": "WEB",
            "DATE_CREATE": "2026-11-02T09:15:00+03:00", "ASSIGNED_BY_ID": "3"}  # fmt: skip
    data = lead_data(Lookup(), lead)
    assert (data.status, data.channel, data.crm_user_id) == ("open", "Веб-сайт", "3")
    assert lead_data(Lookup(), {**lead, "STATUS_SEMANTIC_ID": "S"}).status == "converted"
    no_semantics = {**lead, "STATUS_SEMANTIC_ID": None, "STATUS_ID": "JUNK"}
    assert lead_data(Lookup(), no_semantics).status == "junk"
    with pytest.raises(Skip):
        lead_data(Lookup(), {**lead, "DATE_CREATE": ""})


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_bitrix24_keeps_leads_apart_and_amocrm_does_not():
    bitrix, amo = vendors.vendor_for("bitrix24"), vendors.vendor_for("amocrm")
    assert isinstance(bitrix, LeadVendor) and not isinstance(amo, LeadVendor)
    for name in ("keeps_leads", "lead_stream", "fetch_leads", "lead_from_payload"):
        assert _parameters(getattr(type(bitrix), name)) == _parameters(getattr(LeadVendor, name))


def test_a_batch_of_days_reads_the_lead_sources_once(alpha, bitrix):
    """Refreshing many manager-days asks which sources keep leads once for the batch, not once
    per day (200 days of a pull were 200 identical queries of the connections), and counts
    the same leads."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from crm_sync import services

    manager = alpha.managers[0]
    days = [datetime.date(2026, 11, 1) + datetime.timedelta(days=n) for n in range(6)]
    with tenancy.tenant_context(alpha.company), CaptureQueriesContext(db) as queries:
        services.day_figures_refresh_many(
            company=alpha.company, pairs={(manager.pk, day) for day in days}
        )
    asked = [q["sql"] for q in queries if 'FROM "crm_sync_crmconnection"' in q["sql"]]
    assert len(asked) == 1, asked
