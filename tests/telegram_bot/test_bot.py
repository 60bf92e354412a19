"""The company's bot end to end: the admin's token, binding by the profile's link, the day's
report in the chat, alerts, and what the webhook refuses. Updates are posted to the webhook
as Telegram posts them; the real Celery worker processes them and answers through the fake
Bot API on loopback (tests/conftest.py: FakeTelegram), whose record is what is asserted."""

import datetime
import re
import time
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import crypto, tenancy
from accounts.models import Company, User
from clients.models import ClientAlert
from kpi.calendar import calendar_for
from kpi.models import KPI
from reports import services as report_services
from reports.models import DailyReport, ReportValue
from reports.tasks import send_company_reminders
from telegram_bot import services
from telegram_bot.models import Conversation, Update
from telegram_bot.tasks import send_company_alerts, sweep_updates
from tests.conftest import make_cast

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"  # the shape of a real one
CHAT = 5005
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")


class Telegram:
    """Plays Telegram's side of the webhook: numbered updates, posted with the secret."""

    def __init__(self, client, fake, company: Company) -> None:
        self.client, self.fake, self.company = client, fake, company
        self.next_id = 100

    @property
    def secret(self) -> str:
        return self.fake.webhooks[TOKEN]["secret_token"]

    def post(self, update: dict, *, secret: str | None = None):
        path = reverse("telegram-webhook", kwargs={"company": self.company.code})
        headers = {} if secret == "" else {"X-Telegram-Bot-Api-Secret-Token": secret or self.secret}
        return self.client.post(path, update, content_type="application/json", headers=headers)

    def update(self, **body: object) -> dict:
        self.next_id += 1
        return {"update_id": self.next_id, **body}

    def text(self, text: str, *, chat: int = CHAT) -> dict:
        person = {"id": chat, "is_bot": False, "first_name": "Иван", "language_code": "ru"}
        message = {
            "message_id": self.next_id + 1, "date": int(time.time()), "text": text,
            "chat": {"id": chat, "type": "private", "first_name": "Иван"}, "from": person,
        }  # fmt: skip
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self.update(message=message)

    def press(self, data: str, *, chat: int = CHAT) -> dict:
        """The button `data` of the last message the bot sent to the chat that had it."""
        sent = next(
            m
            for m in reversed(self.fake.sent_to(chat))
            if any(b["callback_data"] == data for row in _buttons(m) for b in row)
        )
        person = {"id": chat, "is_bot": False, "first_name": "Иван"}
        message = {
            "message_id": sent["message_id"], "date": int(time.time()), "text": sent["text"],
            "chat": {"id": chat, "type": "private"},
            "from": {"id": 123456, "is_bot": True, "first_name": "Salesdesk"},
        }  # fmt: skip
        return self.update(
            callback_query={
                "id": f"cb{self.next_id}",
                "from": person,
                "message": message,
                "chat_instance": "42",
                "data": data,
            }
        )

    def say(self, update: dict, *, replies: int = 1, chat: int = CHAT) -> list[dict]:
        """Posts the update and waits for the bot's `replies` new messages to the chat."""
        before = len(self.fake.sent_to(chat))
        response = self.post(update)
        assert response.status_code == 200
        deadline = time.monotonic() + 20
        while len(self.fake.sent_to(chat)) < before + replies and time.monotonic() < deadline:
            time.sleep(0.05)
        sent = self.fake.sent_to(chat)[before:]
        assert len(sent) >= replies, [m["text"] for m in sent]
        self.wait_processed(update)
        return sent

    def wait_processed(self, update: dict) -> None:
        """The bot answers inside the update's transaction: its effects show once it commits."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with tenancy.tenant_context(self.company):
                done = Update.objects.filter(
                    update_id=update["update_id"], processed_at__isnull=False
                ).exists()
            if done:
                return
            time.sleep(0.05)
        raise AssertionError(f"update {update['update_id']} was not processed")


def _buttons(message: dict) -> list[list[dict]]:
    return (message.get("reply_markup") or {}).get("inline_keyboard", [])


@pytest.fixture
def bot(client, clear_mail, telegram, settings):
    """A company whose admin has just saved the bot token on the settings page."""
    settings.TELEGRAM_API_URL = telegram.url  # the settings page's getMe and setWebhook
    cast = make_cast("tg", "Телеграмная")
    client.force_login(cast.admin)
    response = client.post(
        reverse("company-settings"),
        {"name": cast.company.name, "timezone": "Europe/Moscow", "report_backdate_days": "3",
         "reminder_time": "18:00", "telegram_bot_token": TOKEN, "long_call_seconds": "15",
         "missed_calls_limit": "3"},
    )  # fmt: skip
    assert response.status_code == 302
    client.logout()
    cast.company.refresh_from_db()
    return cast, Telegram(client, telegram, cast.company)


def _bind(client, tg: Telegram, user: User, *, chat: int = CHAT) -> list[dict]:
    client.force_login(user)
    page = client.get(reverse("profile")).content.decode()
    client.logout()
    code = re.search(r"https://t\.me/sd123456_bot\?start=([\w-]+)", page).group(1)
    return tg.say(tg.text(f"/start {code}", chat=chat), chat=chat)


def test_the_token_is_checked_stored_encrypted_and_the_webhook_set(bot, client, telegram):
    cast, _tg = bot
    company = cast.company
    assert company.telegram_bot_token != TOKEN and TOKEN not in company.telegram_bot_token
    assert crypto.decrypt(company.telegram_bot_token) == TOKEN
    assert company.telegram_bot_username == "sd123456_bot"
    hook = telegram.webhooks[TOKEN]
    assert hook["url"].endswith(f"/telegram/{company.code}/webhook")
    assert hook["allowed_updates"] == ["message", "callback_query"]
    assert hook["secret_token"] == services.webhook_secret(company=company)
    # The page never shows it back: its last four characters at most.
    client.force_login(cast.admin)
    page = client.get(reverse("company-settings")).content.decode()
    assert TOKEN not in page and TOKEN[:20] not in page
    assert crypto.masked(TOKEN) in page
    # A token Telegram refuses, or something that is no token, is a message on the field,
    # and the stored one stays.
    revoked = "999:" + "A" * 35
    telegram.invalid.add(revoked)
    form = {
        "name": company.name, "timezone": "Europe/Moscow", "report_backdate_days": "3",
        "reminder_time": "18:00", "long_call_seconds": "15", "missed_calls_limit": "3",
    }  # fmt: skip
    refused = client.post(reverse("company-settings"), {**form, "telegram_bot_token": revoked})
    assert "Telegram не принял этот токен" in refused.content.decode()
    garbage = client.post(reverse("company-settings"), {**form, "telegram_bot_token": "bad tok"})
    assert "Это не токен бота" in garbage.content.decode()
    company.refresh_from_db()
    assert crypto.decrypt(company.telegram_bot_token) == TOKEN


def test_binding_by_the_one_time_link_and_unbinding_from_both_sides(bot, client):
    cast, tg = bot
    manager = cast.managers[0]
    client.force_login(manager)
    page = client.get(reverse("profile")).content.decode()
    assert "<svg" in page and "t.me/sd123456_bot?start=" in page
    client.logout()
    (welcome,) = _bind(client, tg, manager)
    assert welcome["text"].startswith("Готово")
    with tenancy.tenant_context(cast.company):
        assert User.objects.get(pk=manager.pk).telegram_chat_id == str(CHAT)
    # The code was spent: another chat pressing the same link binds nothing.
    code = re.search(r"start=([\w-]+)", page).group(1)
    (refused,) = tg.say(tg.text(f"/start {code}", chat=6006), chat=6006)
    assert "устарела или уже использована" in refused["text"]
    # /stop in the chat unbinds.
    (stopped,) = tg.say(tg.text("/stop"))
    assert "отвязан" in stopped["text"]
    with tenancy.tenant_context(cast.company):
        assert User.objects.get(pk=manager.pk).telegram_chat_id == ""
    # Bound again, and unbound from the profile.
    _bind(client, tg, manager)
    client.force_login(manager)
    assert "Отвязать Telegram" in client.get(reverse("profile")).content.decode()
    client.post(reverse("telegram-unbind"))
    with tenancy.tenant_context(cast.company):
        assert User.objects.get(pk=manager.pk).telegram_chat_id == ""


def test_a_forged_update_is_refused_and_a_redelivered_one_is_processed_once(bot, client, telegram):
    cast, tg = bot
    manager = cast.managers[0]
    _bind(client, tg, manager)
    forged = tg.text("/stop")
    assert tg.post(forged, secret="0" * 64).status_code == 403
    assert tg.post(forged, secret="").status_code == 403
    with tenancy.tenant_context(cast.company):
        assert not Update.objects.filter(update_id=forged["update_id"]).exists()
        assert User.objects.get(pk=manager.pk).telegram_chat_id == str(CHAT)
    # Telegram delivers the same update twice (it did not get our 200 in time).
    help_update = tg.text("Привет")
    tg.say(help_update)
    assert tg.post(help_update).status_code == 200
    time.sleep(1.5)
    with tenancy.tenant_context(cast.company):
        assert Update.objects.filter(update_id=help_update["update_id"]).count() == 1
    assert len([m for m in telegram.sent_to(CHAT) if "/report" in m["text"]]) == 2  # bind + help


def test_an_update_whose_task_was_lost_is_processed_by_the_sweep(
    bot, client, telegram, monkeypatch
):
    cast, tg = bot
    _bind(client, tg, cast.managers[0])

    def broker_down(company_id: int, update_pk: int) -> None:
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(services, "_enqueue", broker_down)
    waiting = tg.text("Есть кто?")
    assert tg.post(waiting).status_code == 200  # stored all the same
    time.sleep(1)
    before = len(telegram.sent_to(CHAT))
    with tenancy.tenant_context(cast.company):
        row = Update.objects.get(update_id=waiting["update_id"])
        assert row.processed_at is None
        Update.objects.filter(pk=row.pk).update(
            received_at=timezone.now() - datetime.timedelta(minutes=2)
        )
    assert cast.company.pk in sweep_updates.delay().get(timeout=30)
    deadline = time.monotonic() + 20
    while len(telegram.sent_to(CHAT)) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "/report" in telegram.sent_to(CHAT)[-1]["text"]
    tg.wait_processed(waiting)


def _history(cast, manager: User, calls: int) -> None:
    """Five earlier working days of reports, so that "usual" has a median."""
    company = cast.company
    day, filed = company.today() - datetime.timedelta(days=1), 0
    with tenancy.tenant_context(company):
        calendar = calendar_for(company=company)
        while filed < 5:
            if calendar.is_working(day):
                report_services.report_submit(
                    company=company, manager=manager, day=day, actor=cast.head, version=0,
                    values={"calls": str(calls), "long_calls": "5", "talk_time": "1:00:00",
                            "leads": "1"},
                    confirmed=True,
                )  # fmt: skip
                filed += 1
            day -= datetime.timedelta(days=1)
        report_services.imported_figure_set(
            company=company, manager=manager, day=company.today(), source="telephony",
            kpi=KPI.objects.get(company=company, code="long_calls"), value=Decimal(7),
        )  # fmt: skip


def test_the_days_report_in_the_chat_with_a_typo_a_skip_a_correction_and_a_confirmation(
    bot, client, telegram
):
    cast, tg = bot
    manager = cast.managers[1]
    _history(cast, manager, calls=10)
    _bind(client, tg, manager)
    with tenancy.tenant_context(cast.company):
        calls = KPI.objects.get(company=cast.company, code="calls")
    # /report: today's KPIs with the plan and what is left, then the first KPI.
    overview, question = tg.say(tg.text("/report"), replies=2)
    assert "Ваши показатели на" in overview["text"] and "Звонки" in overview["text"]
    assert question["text"].startswith("«Звонки»")
    # A typo gets the web form's own message, and the question again.
    with pytest.raises(ValidationError) as typo:
        report_services.parse_figures([calls], {"calls": "12x"})
    (refusal,) = tg.say(tg.text("12x"))
    assert refusal["text"].startswith(typo.value.message_dict["calls"][0])
    # 12: the next KPI, whose telephony figure is offered with one tap.
    (offer,) = tg.say(tg.text("12"))
    assert offer["text"].startswith("«Разговоры")
    assert _buttons(offer)[0][0]["callback_data"] == "take:long_calls"
    (talk_time,) = tg.say(tg.press("take:long_calls"))
    assert talk_time["text"].startswith("«Время разговоров»")
    assert {c["method"] for c in telegram.calls} >= {"answerCallbackQuery", "editMessageText"}
    (leads,) = tg.say(tg.text("1:30:00"))
    assert leads["text"].startswith("«Созданные лиды»")
    # Skipped: the summary says so; «Отправить» gets the service's "fill it in" and asks again.
    (summary,) = tg.say(tg.text("/skip"))
    assert "пропущено" in summary["text"]
    refusal, again = tg.say(tg.press("send"), replies=2)
    assert refusal["text"].startswith("Заполните «Созданные лиды»")
    assert again["text"].startswith("«Созданные лиды»")
    (summary,) = tg.say(tg.text("4"))
    assert "Проверьте отчёт" in summary["text"]
    # A correction before sending: calls become 600, far above the usual 10.
    (which,) = tg.say(tg.press("fix"))
    assert "Какой показатель исправить?" in which["text"]
    (asked,) = tg.say(tg.press("redo:calls"))
    assert asked["text"].startswith("«Звонки»") and "Сейчас: 12" in asked["text"]
    (summary,) = tg.say(tg.text("600"))
    assert "600" in summary["text"]
    (confirm,) = tg.say(tg.press("send"))
    assert "намного больше обычного" in confirm["text"]
    assert [b["text"] for b in _buttons(confirm)[0]] == ["Да", "Нет"]
    (done,) = tg.say(tg.press("yes"))
    assert "отправлен" in done["text"]
    with tenancy.tenant_context(cast.company):
        report = DailyReport.objects.get(manager=manager, date=cast.company.today())
        values = {v.kpi.code: (v.value, v.source) for v in report.values.select_related("kpi")}
        assert report.submitted_by_id == manager.pk
        assert not Conversation.objects.filter(chat_id=str(CHAT)).exists()
    assert values == {
        "calls": (Decimal(600), ReportValue.Source.MANUAL),
        "long_calls": (Decimal(7), "telephony"),  # accepted as imported: keeps its source
        "talk_time": (Decimal(5400), ReportValue.Source.MANUAL),
        "leads": (Decimal(4), ReportValue.Source.MANUAL),
    }


def test_a_far_above_usual_figure_answered_no_is_asked_again(bot, client):
    cast, tg = bot
    manager = cast.managers[1]
    _history(cast, manager, calls=10)
    _bind(client, tg, manager)
    tg.say(tg.text("/report"), replies=2)
    for answer in ("900", "7", "1:00:00", "2"):
        tg.say(tg.text(answer))
    (confirm,) = tg.say(tg.press("send"))
    assert "намного больше обычного" in confirm["text"]
    (asked,) = tg.say(tg.press("no"))
    assert asked["text"].startswith("«Звонки»")
    (summary,) = tg.say(tg.text("15"))
    assert "Проверьте отчёт" in summary["text"]
    (done,) = tg.say(tg.press("send"))
    assert "отправлен" in done["text"]
    with tenancy.tenant_context(cast.company):
        report = DailyReport.objects.get(manager=manager, date=cast.company.today())
        assert report.values.get(kpi__code="calls").value == 15


def test_a_farmer_gets_the_clients_to_call_unless_turned_off(bot, client, telegram):
    cast, tg = bot
    with tenancy.tenant_context(cast.company):
        alert = ClientAlert.objects.select_related("client", "manager").get()
    manager = alert.manager
    _bind(client, tg, manager)
    with tenancy.tenant_context(cast.company):
        calendar = calendar_for(company=cast.company)
    day = cast.company.today()
    while not calendar.is_working(day):
        day += datetime.timedelta(days=1)
    moment = datetime.datetime.combine(day, datetime.time(9, 10), tzinfo=MOSCOW).isoformat()
    claimed = send_company_alerts.delay(cast.company.pk, moment).get(timeout=30)
    assert f"{manager.username}:client_calls" in claimed
    deadline = time.monotonic() + 20
    while not any("Пора позвонить" in m["text"] for m in telegram.sent_to(CHAT)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert str(alert.client) in telegram.sent_to(CHAT)[-1]["text"]
    # Turned off on the profile: the next working day brings none.
    client.force_login(manager)
    client.post(reverse("telegram-preferences"), {"reminders": "on", "kpi_warnings": "on"})
    day += datetime.timedelta(days=1)
    while not calendar.is_working(day):
        day += datetime.timedelta(days=1)
    moment = datetime.datetime.combine(day, datetime.time(9, 10), tzinfo=MOSCOW).isoformat()
    claimed = send_company_alerts.delay(cast.company.pk, moment).get(timeout=30)
    assert not any(item.endswith("client_calls") for item in claimed)


def test_the_reminder_carries_todays_figures_and_starts_the_report(bot, client, telegram):
    cast, tg = bot
    manager = cast.managers[1]
    _bind(client, tg, manager)
    with tenancy.tenant_context(cast.company):
        calendar = calendar_for(company=cast.company)
    day = cast.company.today()
    while not calendar.is_working(day):
        day += datetime.timedelta(days=1)
    moment = datetime.datetime.combine(day, datetime.time(18, 5), tzinfo=MOSCOW).isoformat()
    result = send_company_reminders.delay(cast.company.pk, moment).get(timeout=30)
    assert manager.username in result["reminded"]
    deadline = time.monotonic() + 20
    while not any("не сдали отчёт" in m["text"] for m in telegram.sent_to(CHAT)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    reminder = telegram.sent_to(CHAT)[-1]
    assert "Ваши показатели на" in reminder["text"] and "Звонки" in reminder["text"]
    assert _buttons(reminder)[0][0]["callback_data"] == "report"
    overview, question = tg.say(tg.press("report"), replies=2)
    assert "Ваши показатели на" in overview["text"]
    assert question["text"].startswith("«Звонки»")
