import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import tenancy
from crm_sync import services as crm
from crm_sync.models import Deal


def march_url(**params):
    query = "&".join(f"{k}={v}" for k, v in {"period": "range", "start": "2026-03-01",
                                             "end": "2026-03-31", **params}.items())  # fmt: skip
    return f"{reverse('funnel')}?{query}"


@pytest.mark.django_db
def test_the_head_sees_the_hand_computed_funnel_with_its_charts(client, known_funnel):
    cast = known_funnel.cast
    client.force_login(cast.head)
    page = client.get(march_url(manager=known_funnel.manager.code)).content.decode()
    assert 'data-metric="conversion">50,0 %' in page
    assert 'data-metric="deal-length">11,3 дн.' in page
    assert "0,37×" in page and "мало: нужно 3–4×" in page
    for chart in ("stages-data", "conversion-data", "channels-data"):
        assert f'id="{chart}"' in page
    assert "Рекомендация" in page and "Дорого — 1" in page


@pytest.mark.django_db
def test_an_htmx_request_gets_only_the_funnel_part(client, known_funnel):
    client.force_login(known_funnel.cast.head)
    response = client.get(march_url(channel="Сайт"), headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="funnel">')
    assert "по одному каналу плана нет" in page


@pytest.mark.django_db
def test_a_bad_range_keeps_the_page_with_a_russian_message(client, known_funnel):
    client.force_login(known_funnel.cast.head)
    url = f"{reverse('funnel')}?period=range&start=2026-03-31&end=2026-03-01"
    page = client.get(url).content.decode()
    assert "Конец диапазона раньше его начала." in page


@pytest.mark.django_db
def test_a_manager_of_another_company_is_ignored_and_a_manager_may_not_open_it(
    client, known_funnel, beta
):
    cast = known_funnel.cast
    client.force_login(cast.head)
    page = client.get(march_url(manager=beta.manager.code)).content.decode()
    assert beta.manager.username not in page
    assert "выиграно 2, проиграно 2" in page  # the head's team, not the stranger
    client.force_login(cast.manager)
    assert client.get(reverse("funnel")).status_code == 403


@pytest.mark.django_db
def test_the_head_returns_a_retargeted_deal_to_sales(client, alpha, beta):
    with tenancy.tenant_context(alpha.company):
        deal = Deal.objects.get(company=alpha.company, source="file", external_id="1")
        client_ = deal.client
        for number in range(alpha.company.missed_calls_limit):
            crm.call_upsert(company=alpha.company, source="telephony", data=crm.CallData(
                external_id=f"miss{number}", direction="out",
                started_at=timezone.now() + datetime.timedelta(minutes=number),
                answered=False, manager=alpha.manager, client=client_,
            ))  # fmt: skip
        deal.refresh_from_db()
        assert deal.status == Deal.Status.RETARGETING
    client.force_login(alpha.head)
    page = client.get(reverse("retargeting")).content.decode()
    assert deal.title in page and "недозвона подряд" in page
    client.force_login(beta.head)
    assert deal.title not in client.get(reverse("retargeting")).content.decode()
    assert client.post(reverse("retargeting-return", args=[deal.code])).status_code == 404
    client.force_login(alpha.head)
    assert client.post(reverse("retargeting-return", args=[deal.code])).status_code == 302
    with tenancy.tenant_context(alpha.company):
        deal.refresh_from_db()
        assert (deal.status, deal.retargeting_at) == (Deal.Status.OPEN, None)
        assert deal.visits.filter(left_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_the_managers_drill_down_shows_their_funnel_of_the_month(client, known_funnel):
    client.force_login(known_funnel.cast.head)
    url = reverse("dashboard-manager", args=[known_funnel.manager.code])
    page = client.get(url, {"month": "2026-03-01"}).content.decode()
    section = page[page.index('id="manager-funnel"') :]
    assert "50,0 %" in section and "выиграно 2, проиграно 2" in section
    assert "0,37×" in section and 'id="funnel-stages-data"' in section


@pytest.mark.django_db
def test_a_deal_figure_explains_itself_with_the_won_deals_it_stands_for(client, known_funnel):
    client.force_login(known_funnel.cast.head)
    url = reverse("dashboard-explain", args=[known_funnel.manager.code, "deals_sum"])
    page = client.get(url, {"period": "month", "start": "2026-03-01"}).content.decode()
    deals = page[page.index("data-deals") :]
    assert "12.03.2026" in deals and "20.03.2026" in deals
    assert "D1" in deals and "D3" in deals and "D2" not in deals
    calls = reverse("dashboard-explain", args=[known_funnel.manager.code, "calls"])
    assert "data-deals" not in client.get(calls, {"period": "month"}).content.decode()


@pytest.mark.django_db
def test_a_malformed_manager_code_falls_back_to_the_heads_team(client, known_funnel):
    client.force_login(known_funnel.cast.head)
    response = client.get(march_url(manager="not-a-code"))
    assert response.status_code == 200
    assert "выиграно 2, проиграно 2" in response.content.decode()
