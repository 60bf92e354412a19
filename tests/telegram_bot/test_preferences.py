"""What goes to a person's chat: only a bound chat, only the kinds they left on; no form
types a chat id."""

from django.urls import reverse

from accounts import crypto, tenancy
from accounts.models import User
from reports import reminders
from reports.models import Reminder
from telegram_bot import selectors, services


def _bound(alpha, user: User, chat: str) -> User:
    alpha.company.telegram_bot_token = crypto.encrypt("1:T")
    alpha.company.telegram_bot_username = "alpha_bot"
    alpha.company.save()
    User.objects.filter(pk=user.pk).update(telegram_chat_id=chat)
    return User.objects.get(pk=user.pk)


def test_a_head_who_turned_the_digest_off_gets_it_by_mail_only(alpha):
    with tenancy.tenant_context(alpha.company):
        head = _bound(alpha, alpha.head, "77")
        day = alpha.company.today()
        on = reminders.reminder_claim(
            company=alpha.company, user=head, day=day, kind=Reminder.Kind.SUMMARY,
            subject="s", text="t",
        )  # fmt: skip
        assert on.telegram_state == Reminder.Delivery.PENDING
        services.preferences_set(company=alpha.company, user=head, digest=False)
        off = reminders.reminder_claim(
            company=alpha.company, user=head, day=day, kind=Reminder.Kind.DIGEST,
            subject="s", text="t",
        )  # fmt: skip
        assert off.telegram_state == Reminder.Delivery.NONE
        assert off.email_state == Reminder.Delivery.PENDING


def test_the_profile_saves_only_the_kinds_of_the_persons_role(client, alpha):
    with tenancy.tenant_context(alpha.company):
        _bound(alpha, alpha.manager, "78")
    client.force_login(alpha.manager)
    page = client.get(reverse("profile")).content.decode()
    assert "Отвязать Telegram" in page and "«Пора позвонить» клиентам" in page
    assert "сводка руководителя" not in page  # a head's, not a manager's
    client.post(reverse("telegram-preferences"), {"reminders": "on"})
    with tenancy.tenant_context(alpha.company):
        kinds = {
            kind: selectors.telegram_wanted(
                company=alpha.company, user=User.objects.get(pk=alpha.manager.pk), kind=kind
            )
            for kind in (Reminder.Kind.MISSING, Reminder.Kind.KPI_WARNING, "client_calls")
        }
    assert kinds == {"missing": True, "kpi_warning": False, "client_calls": False}


def test_no_form_has_a_chat_id_field(client, alpha):
    client.force_login(alpha.admin)
    for url in (reverse("user-create"), reverse("company-settings")):
        page = client.get(url).content.decode()
        assert "chat_id" not in page and "chat id" not in page.lower()
    settings_page = client.get(reverse("company-settings")).content.decode()
    assert 'type="password"' in settings_page  # the token field never carries a value back
