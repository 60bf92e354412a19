"""Call scores and clients as API resources: the pages' rules (who sees, who scores), a
filter naming a manager the caller does not see refused, a stable cursor, names on demand."""

from django.urls import reverse

from accounts import tenancy
from accounts.models import User
from crm_sync.models import Call
from quality.models import CallScore, CallType
from tests.conftest import Cast, TenantClient


def logged_in(user: User) -> TenantClient:
    client = TenantClient()
    client.force_login(user)
    return client


def test_scores_are_listed_as_the_scores_page_shows_them(alpha: Cast, beta: Cast):
    controller = logged_in(alpha.quality)
    rows = controller.get(reverse("api-score-list")).json()
    assert len(rows["results"]) == 1
    assert rows["results"][0]["manager"] == str(alpha.manager.code)
    named = logged_in(alpha.head).get(reverse("api-score-list"), {"expand": "manager"}).json()
    assert named["results"][0]["manager"]["code"] == str(alpha.manager.code)
    # A controller and a manager see the rows' names too, not only heads and admins.
    for user in (alpha.quality, alpha.manager):
        rows = logged_in(user).get(reverse("api-score-list"), {"expand": "manager"}).json()
        assert rows["results"][0]["manager"] == {
            "code": str(alpha.manager.code),
            "first_name": alpha.manager.first_name,
            "last_name": alpha.manager.last_name,
        }
    own = logged_in(alpha.manager).get(reverse("api-score-list")).json()["results"]
    assert [r["code"] for r in own] == [rows["results"][0]["code"]]
    other = logged_in(alpha.managers[1]).get(reverse("api-score-list")).json()["results"]
    assert other == []
    detail = logged_in(alpha.manager).get(reverse("api-score-detail", args=[own[0]["code"]])).json()
    assert detail["marks"] and {"item", "text", "done", "weight"} == set(detail["marks"][0])
    assert (
        logged_in(alpha.managers[1])
        .get(reverse("api-score-detail", args=[own[0]["code"]]))
        .status_code
        == 404
    )
    foreign = controller.get(reverse("api-score-list"), {"manager": str(beta.manager.code)})
    assert foreign.status_code == 400 and foreign.json()["fields"]["manager"]
    narrow = controller.get(reverse("api-score-list"), {"fields": "code,score"}).json()
    assert set(narrow["results"][0]) == {"code", "score"}
    month = controller.get(reverse("api-score-list"), {"month": "2026-13"})
    assert month.status_code == 400 and month.json()["code"] == "invalid"


def test_a_call_is_scored_and_scored_again_through_the_pages_service(alpha: Cast):
    with tenancy.tenant_context(alpha.company):
        call = Call.objects.get(company=alpha.company, external_id="c1")
        call_type = CallType.objects.filter(company=alpha.company).first()
        items = [str(item.code) for item in call_type.items.filter(active=True)]
    body = {"call": str(call.code), "call_type": str(call_type.code), "done": items}
    head = logged_in(alpha.head)
    first = head.post(reverse("api-score-list"), body, "application/json")
    assert first.status_code == 201, first.content
    assert first.json()["score"] == "100.00"
    again = head.post(reverse("api-score-list"), {**body, "done": []}, "application/json")
    assert again.status_code == 200 and again.json()["code"] == first.json()["code"]
    assert again.json()["score"] == "0.00"
    with tenancy.tenant_context(alpha.company):
        assert CallScore.objects.filter(call=call, controller=alpha.head).count() == 1
    refused = logged_in(alpha.manager).post(reverse("api-score-list"), body, "application/json")
    assert refused.status_code == 403 and refused.json()["message"]
    stray = head.post(
        reverse("api-score-list"), {**body, "done": [str(alpha.company.code)]}, "application/json"
    )
    assert stray.status_code == 400 and stray.json()["fields"]["done"]


def test_clients_are_a_leads_list_with_their_manager(alpha: Cast, beta: Cast):
    head = logged_in(alpha.head)
    rows = head.get(reverse("api-client-list"), {"expand": "manager"}).json()["results"]
    assert [r["name"] for r in rows] == [f"{alpha.company.name}: клиент"]
    assert rows[0]["manager"]["code"] == str(alpha.manager.code)
    one = head.get(reverse("api-client-detail", args=[rows[0]["code"]]))
    assert one.status_code == 200 and one.json()["name"] == rows[0]["name"]
    beta_clients = logged_in(beta.head).get(reverse("api-client-list")).json()["results"]
    assert head.get(reverse("api-client-detail", args=[beta_clients[0]["code"]])).status_code == 404
    foreign = head.get(reverse("api-client-list"), {"manager": str(beta.manager.code)})
    assert foreign.status_code == 400 and foreign.json()["fields"]["manager"]
    assert logged_in(alpha.manager).get(reverse("api-client-list")).status_code == 403
    mine = head.get(reverse("api-client-list"), {"manager": str(alpha.managers[1].code)})
    assert mine.json()["results"] == []


def test_a_controller_changes_their_own_score_only(alpha: Cast):
    controller = logged_in(alpha.quality)
    score = controller.get(reverse("api-score-list")).json()["results"][0]
    detail = controller.get(reverse("api-score-detail", args=[score["code"]])).json()
    every = [mark["item"] for mark in detail["marks"]]
    changed = controller.patch(
        reverse("api-score-detail", args=[score["code"]]),
        {"done": every, "comment": "Всё по чек-листу."},
        "application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["score"] == "100.00" and changed.json()["code"] == score["code"]
    with tenancy.tenant_context(alpha.company):
        assert CallScore.objects.get(code=score["code"]).comment == "Всё по чек-листу."
    others = logged_in(alpha.head).patch(
        reverse("api-score-detail", args=[score["code"]]), {"done": []}, "application/json"
    )
    assert others.status_code == 403 and others.json()["message"]
