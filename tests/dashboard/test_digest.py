"""The heads' digest goes through the real Celery worker, one head and channel at a time."""

from collections import Counter

import pytest

from accounts import crypto, tenancy
from accounts.models import User
from dashboard.tasks import send_company_digests, send_due_digests
from reports.models import Reminder
from tests.conftest import make_cast
from tests.factories import TeamFactory, UserFactory
from tests.reports.test_reminders import TUESDAY, all_sent, at, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refused_digest_is_retried_alone_and_none_goes_twice(clear_mail, telegram):
    cast = make_cast("dig", "Сводная")
    second = UserFactory(company=cast.company, username="dig.head2", role=User.Role.HEAD)
    third = UserFactory(company=cast.company, username="dig.head3", role=User.Role.HEAD)
    for head in (second, third):
        team = TeamFactory(company=cast.company, name=f"{head.username}: команда", head=head)
        UserFactory(company=cast.company, username=f"{head.username}.manager", team=team)
    heads = [cast.head, second, third]
    chats = {head.username: f"88{number}" for number, head in enumerate(heads)}
    with tenancy.tenant_context(cast.company):
        Reminder.objects.all().delete()
        cast.company.telegram_bot_token = crypto.encrypt("456:TEST")
        cast.company.save(update_fields=["telegram_bot_token"])
        for head in heads:
            User.objects.filter(pk=head.pk).update(telegram_chat_id=chats[head.username])
    # The second head's mail is refused once, the third's Telegram once.
    (clear_mail.mail_dir / f"{second.email}.refuse").write_text("1")
    telegram.refuse[chats[third.username]] = 1

    assert cast.company.pk in send_due_digests.delay(at(TUESDAY, 9)).get(timeout=30)
    mails = clear_mail.sent_mail(count=3)
    assert Counter(mail["To"] for mail in mails) == Counter(head.email for head in heads)
    assert all("Кому нужен разговор сегодня, 24.11" in mail.get_content() for mail in mails)
    telegram.wait_for(3)
    assert Counter(m["chat_id"] for m in telegram.messages) == Counter(chats.values())
    rows = {row.user.username: row for row in wait_until(cast.company, all_sent)}
    assert {name: (r.email_attempts, r.telegram_attempts) for name, r in rows.items()} == {
        "dig.head": (1, 1),
        "dig.head2": (2, 1),
        "dig.head3": (1, 2),
    }
    assert {row.kind for row in rows.values()} == {"digest"}

    # Beat fires again: nobody gets the digest twice.
    assert send_company_digests.delay(cast.company.pk, at(TUESDAY, 9, 10)).get(timeout=30) == []
    assert len(clear_mail.sent_mail(count=4, timeout=3)) == 3
    assert len(telegram.messages) == 3
