"""The KPI catalogue a new company starts from (DOMAIN.md: typical sets per role)."""

from dataclasses import dataclass

from kpi.models import KPI

U, A, S = KPI.Unit, KPI.Aggregation, KPI.Source


@dataclass(frozen=True)
class CatalogueKPI:
    code: str
    name_ru: str
    name_en: str
    unit: str
    aggregation: str = A.SUM
    direction: str = KPI.Direction.HIGHER
    source: str = S.MANUAL
    decimals: int = 0
    numerator: str | None = None
    denominator: str | None = None


CATALOGUE = [
    CatalogueKPI("calls", "Звонки", "Calls made", U.COUNT, source=S.TELEPHONY),
    CatalogueKPI(
        "long_calls",
        "Разговоры дольше 15 с",
        "Conversations over 15 s",
        U.COUNT,
        source=S.TELEPHONY,
    ),
    CatalogueKPI("talk_time", "Время разговоров", "Talk time", U.DURATION, source=S.TELEPHONY),
    CatalogueKPI("leads", "Созданные лиды", "Leads created", U.COUNT, source=S.CRM),
    CatalogueKPI("meetings", "Встречи", "Meetings held", U.COUNT),
    CatalogueKPI("proposals", "Отправленные КП", "Proposals sent", U.COUNT),
    CatalogueKPI("deals_won", "Выигранные сделки", "Deals won", U.COUNT, source=S.CRM),
    CatalogueKPI(
        "deals_sum",
        "Сумма выигранных сделок",
        "Deals won, sum",
        U.MONEY,
        source=S.CRM,
        decimals=2,
    ),
    CatalogueKPI(
        "avg_check",
        "Средний чек",
        "Average check",
        U.MONEY,
        A.RATIO,
        source=S.COMPUTED,
        decimals=2,
        numerator="deals_sum",
        denominator="deals_won",
    ),
    CatalogueKPI("repeat_deals", "Повторные сделки", "Repeat deals", U.COUNT, source=S.CRM),
    CatalogueKPI(
        "repeat_sum",
        "Сумма повторных продаж",
        "Repeat sales, sum",
        U.MONEY,
        source=S.CRM,
        decimals=2,
    ),
    CatalogueKPI(
        "repeat_avg_check",
        "Средний чек повторной сделки",
        "Average repeat check",
        U.MONEY,
        A.RATIO,
        source=S.COMPUTED,
        decimals=2,
        numerator="repeat_sum",
        denominator="repeat_deals",
    ),
    CatalogueKPI(
        "response_time",
        "Время реакции на лид",
        "Response time to a lead",
        U.DURATION,
        A.AVERAGE,
        KPI.Direction.LOWER,
        S.CRM,
    ),
    CatalogueKPI(
        "receivables",
        "Дебиторская задолженность",
        "Receivables",
        U.MONEY,
        A.LAST,
        KPI.Direction.LOWER,
        decimals=2,
    ),
]

# The default set of each standard sales role, in display order.
ROLE_SETS = {
    "hunter": ["calls", "long_calls", "talk_time", "leads"],
    "closer": ["meetings", "deals_won", "deals_sum", "avg_check"],
    "farmer": ["repeat_deals", "repeat_sum", "repeat_avg_check", "receivables"],
}
