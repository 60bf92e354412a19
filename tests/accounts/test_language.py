"""Russian that reads as Russian, English that is complete, on the pages themselves."""

import datetime
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext

from accounts import tenancy
from accounts.models import AuditEvent
from accounts.services import DEFAULT_SALES_ROLES
from crm_sync.services import DEFAULT_STAGES
from kpi import services as kpi_services
from kpi.calendar import WorkCalendar
from kpi.catalogue import CATALOGUE
from kpi.models import KPI
from quality.services import DEFAULT_CHECKLISTS


def _english(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", strip_tags(response.content.decode()))


def test_a_select_offers_its_blank_choice_in_the_pages_language(client, alpha):
    client.force_login(alpha.admin)
    russian = client.get(reverse("user-create")).content.decode()
    assert "Select an option" not in russian
    assert "— не выбрано —" in russian
    _english(client)
    assert "— not chosen —" in client.get(reverse("user-create")).content.decode()


def test_the_managers_home_page_names_kpis_in_english_and_never_shows_seconds(client, alpha):
    manager = alpha.manager  # reported yesterday: 1:10:00 of talk time
    client.force_login(manager)
    russian = _text(client.get(reverse("home")))
    assert "Время разговоров: 1 ч 10 мин" in russian
    assert "4200" not in russian
    _english(client)
    english = _text(client.get(reverse("home")))
    with tenancy.tenant_context(alpha.company):
        talk = KPI.objects.get(company=alpha.company, code="talk_time")
    assert f"{talk.name_en}: 1 h 10 min" in english
    assert talk.name_ru not in english


def test_the_security_log_names_roles_in_english(client, alpha):
    with tenancy.tenant_context(alpha.company):
        AuditEvent(
            company=alpha.company, action=AuditEvent.Action.USER_CREATED,
            target="alpha.new (Менеджер)",
        ).save()  # fmt: skip
        AuditEvent(
            company=alpha.company, action=AuditEvent.Action.USER_CHANGED,
            target="alpha.new: role: manager → head",
        ).save()  # fmt: skip
    client.force_login(alpha.admin)
    assert "alpha.new (Менеджер)" in _text(client.get(reverse("audit-log")))
    _english(client)
    english = _text(client.get(reverse("audit-log")))
    assert "alpha.new (Manager)" in english
    assert "role: Manager → Head of sales" in english


def test_a_figure_without_a_plan_says_so_once(client, alpha):
    client.force_login(alpha.head)
    # The month (the dashboard opens on the last working day, which may hold no figures).
    text = _text(client.get(reverse("dashboard") + "?period=month"))
    assert "нет плана" in text
    assert "нет плана нет плана" not in text


def test_a_company_named_in_quotes_is_not_quoted_in_quotes(client, alpha):
    from accounts.services import invitation_url

    with tenancy.tenant_context(alpha.company):
        alpha.company.name = "ООО «Альфа»"
        alpha.company.save(update_fields=["name"])
        invited = alpha.managers[1]
        invited.set_unusable_password()
        invited.save(update_fields=["password"])
        path = urlsplit(invitation_url(user=invited)).path
    text = _text(client.get(path))
    assert "Добро пожаловать в «ООО „Альфа“»" in text
    assert "«ООО «" not in text


def test_what_the_product_seeds_is_named_in_english(client, alpha):
    """Sales roles, pipeline stages and checklists the company was created with; a name the
    company gave itself is shown as written."""
    client.force_login(alpha.head)
    _english(client)
    funnel = _text(client.get(reverse("funnel")))
    assert "New lead" in funnel and "Новая заявка" not in funnel
    home = _text(client.get(reverse("home")))
    assert "Hunter" in home and "Хантер" not in home
    client.force_login(alpha.admin)
    _english(client)
    checklists = _text(client.get(reverse("quality-checklists")))
    assert "Needs discovery" in checklists and "Выявление потребностей" not in checklists


CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def test_every_name_the_product_seeds_has_an_english_one():
    """Roles, stages, call types and their points, KPIs, the country's holidays and moved
    days off: a company created in Russian reads in English after the switch."""
    names = [name for _kind, name in DEFAULT_SALES_ROLES]
    names += [name for name, _kind in DEFAULT_STAGES]
    for call_type, items in DEFAULT_CHECKLISTS:
        names += [call_type, *(text for text, _weight in items)]
    with translation.override("en"):
        untranslated = [name for name in names if CYRILLIC.search(gettext(name))]
        calendar = WorkCalendar(country="RU", overrides={})
        days = [datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(730)]
        holidays = {day: calendar.holiday_name(day) for day in days}
    assert untranslated == []
    assert [item.code for item in CATALOGUE if not item.name_en.strip()] == []
    named = {day: name for day, name in holidays.items() if name}
    assert len(named) > 20  # New Year's week, 23 February, 8 March, May, 12 June, 4 November
    assert {day: name for day, name in named.items() if CYRILLIC.search(name)} == {}


def test_the_funnels_charts_name_the_stages_in_english(client, alpha):
    client.force_login(alpha.head)
    _english(client)
    response = client.get(reverse("funnel"))
    labels = response.context["stages_chart"]["data"][0]["y"]
    assert "New lead" in labels and not any(CYRILLIC.search(label) for label in labels)


def test_the_heads_home_says_todays_report_may_still_come(client, alpha):
    """A working today without a report reads as the week's strip reads it, not «✗ нет»."""
    with tenancy.tenant_context(alpha.company):
        kpi_services.calendar_day_set(
            company=alpha.company, date=alpha.company.today(), is_working=True
        )
    client.force_login(alpha.head)
    home = _text(client.get(reverse("home")))
    assert "ещё не сдан" in home and "✗ нет" not in home


def test_team_reports_write_the_weekday_as_a_sentence_does(client, alpha):
    client.force_login(alpha.head)
    today = alpha.company.today()
    sunday = today - datetime.timedelta(days=today.weekday() + 1)
    query = f"?date={sunday.isoformat()}"
    page = _text(client.get(reverse("team-reports") + query))
    assert ", воскресенье</" in client.get(reverse("team-reports") + query).content.decode()
    assert "Воскресенье" not in page
    _english(client)
    page = _text(client.get(reverse("team-reports") + query))
    assert "Reports for Sunday, " in page
