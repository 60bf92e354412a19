"""A company exported to a file, deleted, and imported again has the same figures."""

import gzip
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts import tenancy
from accounts.models import AuditEvent, Company, Team, User
from crm_sync.models import Call, CRMConnection, Deal, StageVisit
from kpi.models import Plan
from reports.models import ReportValue
from rollups import services as rollup_services
from rollups.models import Total


def figures(company: Company) -> dict[str, object]:
    """Everything that must survive, named by codes (the ids change)."""
    with tenancy.tenant_context(company):
        users = {u.pk: str(u.code) for u in User.objects.filter(company=company)}
        teams = {t.pk: str(t.code) for t in Team.objects.filter(company=company)}
        subject = {"manager": users, "team": teams, "company": {company.pk: "company"}}
        fields = ["value_sum", "value_count", "days_reported", "last_value", "actual", "plan",
                  "completion", "band", "working_days", "forecast", "at_risk", "meeting_plan",
                  "share_meeting_plan"]  # fmt: skip
        totals = sorted(
            (t.scope, subject[t.scope][t.subject_id], t.kpi.code, t.period, str(t.start),
             *(str(getattr(t, f)) for f in fields))
            for t in Total.objects.filter(company=company).select_related("kpi")
        )  # fmt: skip
        values = sorted(
            (str(v.report.manager.code), str(v.report.date), v.kpi.code, str(v.value), v.source)
            for v in ReportValue.objects.filter(company=company).select_related(
                "report__manager", "kpi"
            )
        )
        plans = sorted(
            (p.kpi.code, p.period, str(p.start), users.get(p.manager_id), str(p.value))
            for p in Plan.objects.filter(company=company).select_related("kpi")
        )
        deals = sorted(
            (d.external_id, d.stage.name, str(d.amount), users.get(d.manager_id), d.client.name)
            for d in Deal.objects.filter(company=company).select_related("stage", "client")
        )
        team_heads = sorted((t.name, users.get(t.head_id)) for t in Team.objects.all())
        members = sorted(
            (u.username, u.password, teams.get(u.team_id), u.role)
            for u in User.objects.filter(company=company)
        )
        return {
            "totals": totals,
            "values": values,
            "plans": plans,
            "deals": deals,
            "stage visits": StageVisit.objects.filter(company=company).count(),
            "calls": Call.objects.filter(company=company).count(),
            "team heads": team_heads,
            "users": members,
            "crm": list(CRMConnection.objects.values_list("code", "webhook_secret", "credentials")),
        }


def test_an_exported_company_comes_back_identical(client, alpha, beta, password, tmp_path):
    before = figures(alpha.company)
    assert before["totals"] and before["values"] and before["plans"] and before["deals"]
    beta_before = figures(beta.company)
    path = tmp_path / "alpha.json.gz"
    call_command("export_company", str(alpha.company.code), str(path))
    assert json.loads(gzip.decompress(path.read_bytes()))["company"]["fields"]["name"] == (
        alpha.company.name
    )
    code = alpha.company.code
    call_command("delete_company", str(code), "--yes")
    assert not Company.objects.filter(code=code).exists()

    call_command("import_company", str(path))

    restored = Company.objects.get(code=code)
    assert restored.pk != alpha.company.pk
    assert figures(restored) == before
    assert figures(beta.company) == beta_before
    # The stored totals are also what the facts give: a full recomputation changes nothing.
    reconciliation = rollup_services.totals_reconcile(company_id=restored.pk)
    assert (reconciliation.written, reconciliation.deleted) == (0, 0)
    # People log in with their own passwords, into their own company.
    response = client.post(reverse("login"), {"username": "alpha.head", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    with tenancy.tenant_context(restored):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    # The export's own event was written after the file, so only the import's is there.
    assert {"imported", "login", "user_created"} <= actions


def test_an_import_refuses_a_company_that_exists(alpha, tmp_path):
    path = tmp_path / "alpha.json"
    call_command("export_company", str(alpha.company.code), str(path))
    with pytest.raises(CommandError, match="already exists"):
        call_command("import_company", str(path))


def test_an_unknown_company_or_file_is_refused_clearly(alpha, tmp_path):
    with pytest.raises(CommandError, match="no company"):
        call_command("export_company", "6b2d2b3a-0000-4000-8000-000000000000", "x.json")
    with pytest.raises(CommandError, match="not a company code"):
        call_command("export_company", "alpha", "x.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(CommandError, match="not a salesdesk-company-export file"):
        call_command("import_company", str(bad))
