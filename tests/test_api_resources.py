"""The API's resources: the new paths do what the old ones did, through the same services and
rules, and the lists page with a stable cursor, keep `?fields=` and expand names."""

import datetime

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from kpi.models import Absence, CalendarDay
from reports.models import DailyReport
from tests.conftest import Cast


def api(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


def test_users_and_teams_are_created_and_changed_on_their_resources(alpha: Cast):
    client = api(alpha.api_key)
    team = client.post(reverse("api-team-list"), {"name": "Южный отдел"}, "application/json")
    assert team.status_code == 201 and team.json()["manager_count"] == 0
    renamed = client.patch(
        reverse("api-team-detail", args=[team.json()["code"]]),
        {"name": "Северный отдел"},
        "application/json",
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Северный отдел"
    taken = client.patch(
        reverse("api-team-detail", args=[team.json()["code"]]),
        {"name": alpha.team.name},
        "application/json",
    )
    assert taken.status_code == 400 and "name" in taken.json()["fields"]
    user = client.post(
        reverse("api-user-list"),
        {"username": "alpha.api2", "password": "Sunny-Meadow-42", "role": "head"},
        "application/json",
    )
    assert user.status_code == 201
    changed = client.patch(
        reverse("api-user-detail", args=[user.json()["code"]]),
        {"last_name": "Петров"},
        "application/json",
    )
    assert changed.status_code == 200 and changed.json()["last_name"] == "Петров"


def test_an_absence_and_a_calendar_day_are_deleted_by_the_admin_only(client, alpha: Cast):
    admin = api(alpha.api_key)
    absence = admin.post(
        reverse("api-absence-list"),
        {"manager": str(alpha.manager.code), "kind": "vacation", "start": "2026-12-21",
         "end": "2026-12-25"},
        "application/json",
    )  # fmt: skip
    assert absence.status_code == 201
    day = admin.post(
        reverse("api-calendar-day-list"),
        {"date": "2026-12-31", "is_working": False, "note": "канун"},
        "application/json",
    )
    assert day.status_code == 200
    client.force_login(alpha.head)
    code = absence.json()["code"]
    assert client.delete(reverse("api-absence-detail", args=[code])).status_code == 403
    assert admin.delete(reverse("api-absence-detail", args=[code])).status_code == 204
    assert admin.delete(reverse("api-absence-detail", args=[code])).status_code == 404
    gone = admin.delete(reverse("api-calendar-day-detail", args=["2026-12-31"]))
    assert gone.status_code == 204
    with tenancy.tenant_context(alpha.company):
        assert not Absence.objects.filter(code=code).exists()
        assert not CalendarDay.objects.filter(company=alpha.company, note="канун").exists()


def test_a_kpi_leaves_a_roles_set_by_delete_with_the_services_rule(alpha: Cast):
    client = api(alpha.api_key)
    role = alpha.manager.sales_role
    kpis = client.get(reverse("api-role-kpis", args=[role.code])).json()["kpis"]
    answers = [
        client.delete(
            reverse("api-role-kpi-item", args=[role.code, kpi["code"]])
            + "?effective_from=2026-12-01"
        )
        for kpi in kpis
    ]
    # A set keeps at least two KPIs: the service refuses the rest with its reason.
    assert [a.status_code for a in answers[: len(kpis) - 2]] == [200] * (len(kpis) - 2)
    assert answers[-1].status_code == 400 and answers[-1].json()["message"]
    missing_day = client.delete(reverse("api-role-kpi-item", args=[role.code, kpis[0]["code"]]))
    assert missing_day.status_code == 400 and "effective_from" in missing_day.json()["fields"]


def test_deals_page_with_a_cursor_and_expand_names(alpha: Cast):
    client = api(alpha.api_key)
    first = client.get(reverse("api-deal-list"), {"page_size": 1, "expand": "manager"}).json()
    assert len(first["results"]) == 1 and first["next"]
    manager = first["results"][0]["manager"]
    assert set(manager) == {"code", "first_name", "last_name"}
    seen = [first["results"][0]["code"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["code"] for row in page["results"]]
    everything = client.get(reverse("api-deal-list"), {"page_size": 500}).json()["results"]
    assert seen == [row["code"] for row in everything]
    narrow = client.get(reverse("api-deal-list"), {"fields": "code,status"}).json()["results"]
    assert all(set(row) == {"code", "status"} for row in narrow)
    unknown = client.get(reverse("api-deal-list"), {"fields": "code,secret"})
    assert unknown.status_code == 400 and unknown.json()["fields"]["fields"]
    bad_cursor = client.get(reverse("api-deal-list"), {"cursor": "nonsense"})
    assert bad_cursor.status_code == 404 and bad_cursor.json()["code"] == "not_found"


def test_the_lists_that_paged_otherwise_keep_their_old_answer_for_one_release(alpha: Cast):
    """Before the cursor, `reports/` answered a bare list of the newest 200 and `deals/`,
    `calls/` a limit-offset page with `count`: a script written against them keeps working
    until it opts into the cursor page with `?page_size=` (or follows a `cursor`)."""
    client = api(alpha.api_key)
    reports = client.get(reverse("api-report-list"), {"expand": "manager"}).json()
    assert isinstance(reports, list) and reports[0]["manager"]["last_name"]
    paged = client.get(reverse("api-report-list"), {"page_size": 1}).json()
    assert set(paged) == {"next", "previous", "results"}
    assert [row["code"] for row in paged["results"]] == [reports[0]["code"]]
    for name in ("api-deal-list", "api-call-list"):
        whole = client.get(reverse(name)).json()
        assert set(whole) == {"count", "next", "previous", "results"}, name
        assert whole["count"] == len(whole["results"]) >= 2 and whole["next"] is None
        second = client.get(reverse(name), {"limit": 1, "offset": 1}).json()
        assert second["count"] == whole["count"] and "limit=1" in second["previous"]
        assert second["results"] == whole["results"][1:2]
        assert set(client.get(reverse(name), {"page_size": 1}).json()) == {
            "next", "previous", "results"
        }  # fmt: skip


def test_a_report_is_filed_and_corrected_on_its_resource(client, alpha: Cast):
    client.force_login(alpha.manager)
    today = alpha.company.today()
    kpis = client.get(
        reverse("api-role-kpis", args=[alpha.manager.sales_role.code]), {"on": today.isoformat()}
    ).json()["kpis"]
    values = {kpi["code"]: "1" for kpi in kpis}
    filed = client.post(
        reverse("api-report-list"),
        {"date": today.isoformat(), "values": values},
        "application/json",
    )
    assert filed.status_code in (200, 201), filed.content
    corrected = client.patch(
        reverse("api-report-detail", args=[filed.json()["code"]]),
        {"values": {**values, kpis[0]["code"]: "2"}, "version": filed.json()["version"],
         "reason": "опечатка"},
        "application/json",
    )  # fmt: skip
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["version"] == filed.json()["version"] + 1
    stale = client.patch(
        reverse("api-report-detail", args=[filed.json()["code"]]),
        {"values": values, "version": filed.json()["version"]},
        "application/json",
    )
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"


def test_a_kpi_coded_add_or_remove_leaves_a_roles_set_by_delete(alpha: Cast):
    """The old `…/kpis/add/` and `…/kpis/remove/` paths match first: a KPI with such a code
    must still be taken out through the item's DELETE, and the old POSTs still work."""
    client = api(alpha.api_key)
    role = alpha.manager.sales_role
    for day, code in ((1, "add"), (3, "remove")):
        made = client.post(
            reverse("api-kpi-list"),
            {"code": code, "name_ru": f"Показатель {code}", "name_en": code, "unit": "count"},
            "application/json",
        )
        assert made.status_code == 201, made.content
        added = client.post(
            reverse("api-role-kpi-add", args=[role.code]),
            {"kpi": code, "effective_from": f"2026-12-0{day}"},
            "application/json",
        )
        assert added.status_code == 200, added.content
        assert code in {kpi["code"] for kpi in added.json()["kpis"]}
        gone = client.delete(
            reverse("api-role-kpi-item", args=[role.code, code])
            + f"?effective_from=2026-12-0{day + 1}"
        )
        assert gone.status_code == 200, gone.content
        assert code not in {kpi["code"] for kpi in gone.json()["kpis"]}
        kept = client.get(reverse("api-role-kpis", args=[role.code]), {"on": f"2026-12-0{day}"})
        assert code in {kpi["code"] for kpi in kept.json()["kpis"]}


def test_reports_page_with_a_cursor_past_the_old_cap_of_200(alpha: Cast):
    """The list used to stop at the newest 200 reports: older ones were out of reach."""
    with tenancy.tenant_context(alpha.company):
        stored = DailyReport.objects.get(manager=alpha.manager)
        day = stored.date
        DailyReport.objects.bulk_create(
            DailyReport(company=alpha.company, manager=alpha.managers[1],
                        date=day - datetime.timedelta(days=n), submitted_at=stored.submitted_at)
            for n in range(1, 206)
        )  # fmt: skip
    client = api(alpha.api_key)
    page = client.get(reverse("api-report-list"), {"page_size": 500}).json()
    assert len(page["results"]) == 206 and page["next"] is None
    seen, link = [], reverse("api-report-list") + "?page_size=150"
    while link:
        page = client.get(link).json()
        seen += [row["code"] for row in page["results"]]
        link = page["next"]
    assert len(seen) == len(set(seen)) == 206


def test_totals_narrow_to_a_team_or_a_manager_the_caller_sees(alpha: Cast, beta: Cast):
    client = api(alpha.api_key)
    start = alpha.company.today().isoformat()
    everything = client.get(reverse("api-total-list"), {"start": start}).json()
    assert {row["scope"] for row in everything} >= {"company", "team", "manager"}
    team = client.get(reverse("api-total-list"), {"start": start, "team": alpha.team.code})
    assert team.status_code == 200
    assert {row["scope"] for row in team.json()} == {"team", "manager"}
    manager = client.get(
        reverse("api-total-list"), {"start": start, "manager": alpha.manager.code}
    ).json()
    assert manager and {row["subject"] for row in manager} == {str(alpha.manager.code)}
    for name, code in (("team", beta.team.code), ("manager", beta.manager.code)):
        foreign = client.get(reverse("api-total-list"), {"start": start, name: code})
        assert foreign.status_code == 400 and foreign.json()["fields"][name], name
