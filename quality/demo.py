"""The demo's call quality: a controller who scored one call of each type per hunter on each
recent working day, a few second opinions by the head of sales, and a 30 % soft salary."""

import datetime
import random
from decimal import Decimal

from accounts.models import Company, User
from crm_sync.models import Call
from quality import services
from quality.models import CallScore

COMMENTS = [
    "Хорошо выявили потребность, но не договорились о следующем шаге.",
    "Перебивали клиента на возражении о цене — дайте ему договорить.",
    "Отличный звонок: ясное резюме и назначенная встреча.",
    "Не уточнили бюджет и сроки: без них КП будет мимо.",
    "",
]


def demo_quality(
    *,
    company: Company,
    controller: User,
    head: User,
    managers: list[tuple[User, float]],
    rng: random.Random,
) -> None:
    services.settings_save(company=company, soft_salary_share=Decimal(30), days_back=3)
    call_types = services.checklists_install_defaults(company=company)
    items = {t.pk: list(t.items.filter(active=True)) for t in call_types}
    for manager, skill in managers:
        calls = list(
            Call.objects.filter(
                company=company, manager=manager, answered=True, duration__gte=60
            ).order_by("started_at")
        )
        by_day: dict[datetime.date, list[Call]] = {}
        for call in calls:
            by_day.setdefault(company.local_time(call.started_at).date(), []).append(call)
        for day, day_calls in sorted(by_day.items())[:-1]:  # today's wait in the queue
            picked = rng.sample(day_calls, min(len(day_calls), len(call_types)))
            for call_type, call in zip(call_types, picked, strict=False):
                done = {i.pk for i in items[call_type.pk] if rng.random() < 0.35 + skill * 0.5}
                services.call_score_save(
                    company=company, call=call, call_type=call_type, controller=controller,
                    done_items=done, comment=rng.choice(COMMENTS),
                )  # fmt: skip
                if rng.random() < 0.15:  # a second opinion now and then
                    second = {i.pk for i in items[call_type.pk] if rng.random() < 0.7}
                    services.call_score_save(
                        company=company, call=call, call_type=call_type, controller=head,
                        done_items=second,
                    )  # fmt: skip
                next_day = day + datetime.timedelta(days=1)
                CallScore.objects.filter(call=call).update(scored_on=next_day)
