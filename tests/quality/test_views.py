import pytest
from django.urls import reverse

from accounts import tenancy
from quality.models import CallScore, CallType, ChecklistItem, QualitySettings
from tests.quality.conftest import build_known_quality


@pytest.fixture
def known(alpha):
    return build_known_quality(alpha)


def test_a_controller_lands_on_the_queue_and_scores_a_call(client, alpha):
    client.force_login(alpha.quality)
    assert client.get(reverse("home")).headers["Location"] == reverse("quality-queue")
    page = client.get(reverse("quality-queue")).content.decode()
    assert "Звонки на проверку" in page and "Осталось оценить" in page
    with tenancy.tenant_context(alpha.company):
        call = alpha.manager.calls.get(external_id="c1")
        call_type = CallType.objects.get(company=alpha.company, name="Работа с возражениями")
        items = list(call_type.items.all())
    url = reverse("quality-score", args=[call.code])
    assert "Работа с возражениями" in client.get(url).content.decode()
    form = client.get(f"{url}?type={call_type.code}").content.decode()
    assert items[0].text in form
    response = client.post(url, {
        "type": str(call_type.code), "done": [str(items[1].pk), str(items[2].pk)],
        "comment": "Хорошо уточнил, но не проверил, снято ли возражение.", "next": "/quality/",
    })  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == "/quality/"
    with tenancy.tenant_context(alpha.company):
        score = CallScore.objects.get(call=call, call_type=call_type)
    assert str(score.score) == "60.00"  # 3 + 3 of 10
    assert (score.manager_id, score.controller_id) == (alpha.manager.pk, alpha.quality.pk)


def test_an_outside_redirect_after_scoring_is_ignored(client, alpha):
    client.force_login(alpha.quality)
    with tenancy.tenant_context(alpha.company):
        call = alpha.manager.calls.get(external_id="c1")
        call_type = CallType.objects.get(company=alpha.company, name="Работа с возражениями")
    response = client.post(
        reverse("quality-score", args=[call.code]),
        {"type": str(call_type.code), "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == reverse("quality-queue")


def test_the_manager_sees_their_scores_comments_and_soft_salary(client, known):
    client.force_login(known.m1)
    page = client.get(reverse("quality-scores") + "?month=2026-03").content.decode()
    assert "Мои оценки звонков" in page
    assert "Разбор звонка A" in page and "Разбор звонка B" in page
    assert "Разбор звонка E" not in page  # another manager's
    assert "45,0 %" in page and "13,5 % из 30 % (потеря 16,5 %)" in page and "83,5 %" in page
    detail = client.get(reverse("quality-score-detail", args=[known.scores["B1"].code]))
    assert "30 %" in detail.content.decode()
    foreign = client.get(reverse("quality-score-detail", args=[known.scores["E1"].code]))
    assert foreign.status_code == 404


def test_a_manager_may_not_score_or_see_the_queue(client, known):
    client.force_login(known.m1)
    assert client.get(reverse("quality-queue")).status_code == 403
    assert client.get(reverse("quality-analysis")).status_code == 403
    url = reverse("quality-score", args=[known.calls["A"].code])
    assert client.post(url, {"type": str(known.call_type.code)}).status_code == 403


def test_the_head_reads_months_analysis_and_second_opinions(client, known):
    client.force_login(known.cast.head)
    page = client.get(reverse("quality-scores") + "?month=2026-03").content.decode()
    assert "45,0 %" in page and "100,0 %" in page
    analysis = client.get(reverse("quality-analysis") + "?month=2026-03").content.decode()
    # The conversions with their sample; a difference from a few calls is not a finding.
    assert "66,7 %" in analysis and "мало данных" in analysis
    assert "+100,0 п.п." not in analysis and "-100,0 п.п." not in analysis
    assert "40 п.п." in analysis and "60 %" in analysis
    detail = client.get(reverse("quality-score-detail", args=[known.scores["A1"].code]))
    assert f"{known.second_controller}: 40 %" in detail.content.decode()


def test_a_malformed_call_type_code_is_not_found(client, known):
    client.force_login(known.cast.quality)
    url = reverse("quality-score", args=[known.calls["A"].code])
    assert client.get(f"{url}?type=not-a-code").status_code == 404


def test_the_dashboard_and_the_drill_down_show_the_month_quality(client, alpha):
    client.force_login(alpha.head)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'id="quality-month"' in page and "10,0 %" in page  # the cast's score
    drill = client.get(reverse("dashboard-manager", args=[alpha.manager.code])).content.decode()
    assert "Мягкая часть зарплаты: 3,0 % из 30 %, всего 73,0 % от полной зарплаты." in drill


def test_the_admin_edits_checklists_and_rules_with_clear_refusals(client, alpha):
    client.force_login(alpha.admin)
    url = reverse("quality-checklists")
    assert client.post(url, {"form": "type", "name": "Холодный звонок", "position": 2,
                             "active": "on"}).status_code == 302  # fmt: skip
    refused = client.post(url, {"form": "type", "name": "холодный звонок", "position": 3})
    assert refused.status_code == 422
    assert "Тип звонка «холодный звонок» уже есть." in refused.content.decode()
    with tenancy.tenant_context(alpha.company):
        cold = CallType.objects.get(company=alpha.company, name="Холодный звонок")
    type_url = reverse("quality-call-type", args=[cold.code])
    heavy = client.post(type_url, {"form": "item", "text": "Назвал цель", "weight": 500,
                                   "position": 0})  # fmt: skip
    assert heavy.status_code == 422
    assert "Убедитесь, что это значение меньше либо равно 100." in heavy.content.decode()
    assert client.post(type_url, {"form": "item", "text": "Назвал цель", "weight": 5,
                                  "position": 0}).status_code == 302  # fmt: skip
    with tenancy.tenant_context(alpha.company):
        item = ChecklistItem.objects.get(call_type=cold)
    assert item.weight == 5
    client.post(reverse("quality-item-remove", args=[item.code]))
    assert client.post(url, {"form": "settings", "soft_salary_share": "25",
                             "days_back": "5"}).status_code == 302  # fmt: skip
    with tenancy.tenant_context(alpha.company):
        assert not ChecklistItem.objects.filter(pk=item.pk).exists()
        rules = QualitySettings.objects.get(company=alpha.company)
    assert (str(rules.soft_salary_share), rules.days_back) == ("25.00", 5)


def test_only_admins_edit_checklists(client, alpha):
    with tenancy.tenant_context(alpha.company):
        call_type = CallType.objects.filter(company=alpha.company).first()
    for user in (alpha.head, alpha.quality, alpha.manager):
        client.force_login(user)
        assert client.get(reverse("quality-checklists")).status_code == 403
        assert client.get(reverse("quality-call-type", args=[call_type.code])).status_code == 403
