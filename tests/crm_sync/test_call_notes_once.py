"""One call, one record: amoCRM call notes are read from contacts, leads and companies (the
pull and the webhooks), and a call the PBX pushed and a CRM noted is counted once, by the
PBX's call id (`params.uniq`)."""

import copy

from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts import tenancy
from accounts.models import CompanyToken
from crm_sync import services
from crm_sync.models import Call
from tests.crm_sync.fake_crm import form
from tests.crm_sync.test_connectors_pull import pull
from tests.crm_sync.test_connectors_webhooks import FORM, amo_url, on_portal

UNIQ = "c3a1e2f0-77aa-4d1b-9d0e-1f2a3b4c5d6e"  # the webhook note's UNIQ


def all_calls(cast) -> list[Call]:
    with tenancy.tenant_context(cast.company):
        return list(Call.objects.filter(company=cast.company, phone="79125550101").order_by("id"))


def push(cast, **extra):
    with tenancy.tenant_context(cast.company):
        _token, key = account_services.company_token_create(
            company=cast.company, name="АТС", scopes=[CompanyToken.Scope.CALLS_PUSH]
        )
    body = {
        "external_id": "pbx-1", "manager": str(cast.managers[0].code), "direction": "in",
        "started_at": "2026-11-06T10:20:00+03:00", "duration": 42, "answered": True,
        "phone": "+79125550101", **extra,
    }  # fmt: skip
    return Client().post(
        reverse("api-call-push"), body, content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip


def test_the_pull_reads_call_notes_of_leads_and_companies_too(alpha, fake, amo):
    lead_note = copy.deepcopy(fake.notes[0])
    lead_note.update(id=90020001, entity_id=24100311)
    lead_note["params"]["uniq"] = "lead-only-call"
    company_note = copy.deepcopy(fake.notes[1])
    company_note.update(id=90030001, entity_id=5100001)
    company_note["params"]["uniq"] = "company-only-call"
    fake.lead_notes.append(lead_note)
    fake.company_notes.append(company_note)

    pull(amo)

    with tenancy.tenant_context(alpha.company):
        stored = set(
            Call.objects.filter(company=alpha.company).values_list("external_id", "pbx_call_id")
        )
    assert ("leads:90020001", "lead-only-call") in stored
    assert ("companies:90030001", "company-only-call") in stored
    assert fake.requests_to("/api/v4/leads/notes") and fake.requests_to("/api/v4/companies/notes")


def test_one_call_noted_on_the_contact_and_on_the_lead_is_one_call(alpha, fake, amo):
    lead_note = copy.deepcopy(fake.notes[0])  # the same call (same uniq), noted on the lead
    lead_note.update(id=90020002, entity_id=24100311)
    fake.lead_notes.append(lead_note)

    pull(amo)
    pull(amo)

    with tenancy.tenant_context(alpha.company):
        uniq = fake.notes[0]["params"]["uniq"]
        assert Call.objects.filter(company=alpha.company, pbx_call_id=uniq).count() == 1


def test_a_webhook_note_on_a_lead_and_the_same_on_the_contact_are_one_call(client, alpha, amo):
    on_portal(amo, "https://example.amocrm.ru")
    contact = form("amocrm_webhook_call_note.txt")
    lead = contact.replace(b"contacts%5Bnote%5D", b"leads%5Bnote%5D").replace(
        b"90010050", b"90020050"
    )
    assert client.post(amo_url(amo), lead, content_type=FORM).status_code == 200
    assert client.post(amo_url(amo), contact, content_type=FORM).status_code == 200

    [call] = all_calls(alpha)
    assert (call.source, call.external_id, call.pbx_call_id) == ("amocrm", "leads:90020050", UNIQ)
    assert call.recording_url == "https://records.example.net/c3a1.mp3"


def test_the_pbx_push_then_the_crm_note_is_one_call(client, alpha, amo):
    assert push(alpha, pbx_call_id=UNIQ).status_code == 201
    on_portal(amo, "https://example.amocrm.ru")
    client.post(amo_url(amo), form("amocrm_webhook_call_note.txt"), content_type=FORM)

    [call] = all_calls(alpha)
    assert (call.source, call.external_id) == ("telephony", "pbx-1")
    # The note adds what the PBX did not send: the recording.
    assert call.recording_url == "https://records.example.net/c3a1.mp3"


def test_the_crm_note_then_the_pbx_push_is_one_call_and_the_pbx_record_wins(client, alpha, amo):
    on_portal(amo, "https://example.amocrm.ru")
    client.post(amo_url(amo), form("amocrm_webhook_call_note.txt"), content_type=FORM)
    assert push(alpha, pbx_call_id=UNIQ, duration=45).status_code == 200  # the same call

    [call] = all_calls(alpha)
    assert (call.source, call.external_id, call.duration) == ("telephony", "pbx-1", 45)
    with tenancy.tenant_context(alpha.company):
        figures = services.day_figures(
            company=alpha.company, manager=alpha.managers[0], day=call.started_at.date()
        )
    assert figures["incoming_calls"] >= 1
    # And the note seen again (the pull, a retry) stays the same one call.
    client.post(amo_url(amo), form("amocrm_webhook_call_note.txt"), content_type=FORM)
    assert len(all_calls(alpha)) == 1
