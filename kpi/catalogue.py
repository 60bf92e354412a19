"""The KPI catalogue a company picks from (DOMAIN.md: typical sets per role, the source list).

`standard` entries are installed for every new company; the rest wait on the catalogue page
until the admin adopts them. `SOURCE_LIST` maps the 37 KPIs of the practice article to the
catalogue, or says where else the product shows them, or which missing data they need.
"""

from dataclasses import dataclass

from kpi.models import KPI

U, A, S, D = KPI.Unit, KPI.Aggregation, KPI.Source, KPI.Direction


@dataclass(frozen=True)
class CatalogueKPI:
    code: str
    name_ru: str
    name_en: str
    unit: str
    aggregation: str = A.SUM
    direction: str = D.HIGHER
    source: str = S.MANUAL
    decimals: int = 0
    numerator: str | None = None
    denominator: str | None = None
    source_items: tuple[int, ...] = ()
    standard: bool = False


# Installation creates the entries in this order, so a ratio comes after its two sums.
CATALOGUE: list[CatalogueKPI] = [
    # Calls (telephony).
    CatalogueKPI("calls", "Звонки", "Calls made", U.COUNT, source=S.TELEPHONY, standard=True),
    CatalogueKPI(
        "incoming_calls",
        "Входящие звонки",
        "Incoming calls",
        U.COUNT,
        source=S.TELEPHONY,
        standard=True,
    ),
    CatalogueKPI(
        "long_calls",
        "Разговоры дольше 15 с",
        "Conversations over 15 s",
        U.COUNT,
        source=S.TELEPHONY,
        standard=True,
    ),
    CatalogueKPI(
        "talk_time",
        "Время разговоров",
        "Talk time",
        U.DURATION,
        source=S.TELEPHONY,
        standard=True,
    ),
    CatalogueKPI(
        "talk_time_avg",
        "Среднее время разговора",
        "Average talk time per call",
        U.DURATION,
        A.RATIO,
        source=S.COMPUTED,
        numerator="talk_time",
        denominator="calls",
    ),
    CatalogueKPI(
        "missed_calls",
        "Пропущенные звонки",
        "Missed calls",
        U.COUNT,
        A.SUM,
        D.LOWER,
        source=S.TELEPHONY,
    ),
    # Leads.
    CatalogueKPI(
        "leads",
        "Созданные лиды",
        "Leads created",
        U.COUNT,
        source=S.CRM,
        source_items=(1,),
        standard=True,
    ),
    CatalogueKPI(
        "mql",
        "Маркетинговые лиды (MQL)",
        "Marketing-qualified leads (MQL)",
        U.COUNT,
        source=S.CRM,
        standard=True,
    ),
    CatalogueKPI(
        "sql",
        "Квалифицированные лиды (SQL)",
        "Sales-qualified leads (SQL)",
        U.COUNT,
        source=S.CRM,
        source_items=(2,),
        standard=True,
    ),
    CatalogueKPI(
        "mql_sql_conversion",
        "Конверсия из MQL в SQL",
        "MQL → SQL conversion",
        U.PERCENT,
        A.RATIO,
        source=S.COMPUTED,
        decimals=1,
        numerator="sql",
        denominator="mql",
        standard=True,
    ),
    CatalogueKPI(
        "response_time",
        "Время реакции на лид",
        "Response time to a lead",
        U.DURATION,
        A.AVERAGE,
        D.LOWER,
        S.CRM,
        source_items=(3,),
        standard=True,
    ),
    CatalogueKPI(
        "opportunities",
        "Созданные сделки",
        "Deals created",
        U.COUNT,
        source=S.CRM,
        source_items=(12,),
    ),
    CatalogueKPI(
        "lead_to_opportunity",
        "Конверсия лидов в сделки",
        "Lead-to-deal conversion",
        U.PERCENT,
        A.RATIO,
        source=S.COMPUTED,
        decimals=1,
        numerator="opportunities",
        denominator="leads",
        source_items=(12,),
    ),
    # Meetings, demos, proposals.
    CatalogueKPI("meetings", "Встречи", "Meetings held", U.COUNT, standard=True),
    CatalogueKPI(
        "demos_scheduled",
        "Назначенные демо",
        "Demos scheduled",
        U.COUNT,
        source_items=(6,),
    ),
    CatalogueKPI("demos_held", "Проведённые демо", "Demos held", U.COUNT, source_items=(6,)),
    CatalogueKPI(
        "show_rate",
        "Доходимость до демо",
        "Show rate",
        U.PERCENT,
        A.RATIO,
        source=S.COMPUTED,
        decimals=1,
        numerator="demos_held",
        denominator="demos_scheduled",
        source_items=(6,),
    ),
    CatalogueKPI(
        "followup_meetings",
        "Повторные встречи",
        "Follow-up meetings",
        U.COUNT,
        source_items=(5,),
    ),
    CatalogueKPI("presentations", "Презентации", "Presentations", U.COUNT, standard=True),
    CatalogueKPI("proposals", "Отправленные КП", "Proposals sent", U.COUNT, standard=True),
    # Deals and the funnel.
    CatalogueKPI(
        "open_deals",
        "Сделки в работе",
        "Open deals",
        U.COUNT,
        A.LAST,
        source=S.CRM,
        source_items=(14,),
    ),
    CatalogueKPI(
        "deals_won", "Выигранные сделки", "Deals won", U.COUNT, source=S.CRM, standard=True
    ),
    CatalogueKPI(
        "deals_sum",
        "Сумма выигранных сделок",
        "Deals won, sum",
        U.MONEY,
        source=S.CRM,
        decimals=2,
        standard=True,
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
        source_items=(30,),
        standard=True,
    ),
    CatalogueKPI(
        "deals_closed",
        "Закрытые сделки",
        "Deals closed (won + lost)",
        U.COUNT,
        source=S.CRM,
    ),
    CatalogueKPI(
        "conversion",
        "Конверсия в продажу",
        "Conversion to sale",
        U.PERCENT,
        A.RATIO,
        source=S.COMPUTED,
        decimals=1,
        numerator="deals_won",
        denominator="deals_closed",
        source_items=(27,),
    ),
    CatalogueKPI(
        "lead_close_rate",
        "Конверсия лидов в продажу",
        "Lead-to-sale conversion",
        U.PERCENT,
        A.RATIO,
        source=S.COMPUTED,
        decimals=1,
        numerator="deals_won",
        denominator="leads",
        source_items=(26,),
    ),
    CatalogueKPI(
        "close_rate",
        "Конверсия сделок в продажу",
        "Deal close rate",
        U.PERCENT,
        A.RATIO,
        source=S.COMPUTED,
        decimals=1,
        numerator="deals_won",
        denominator="opportunities",
        source_items=(29,),
    ),
    CatalogueKPI(
        "new_clients",
        "Новые клиенты",
        "New clients",
        U.COUNT,
        source=S.CRM,
        source_items=(28,),
    ),
    CatalogueKPI(
        "deal_length",
        "Длина сделки",
        "Deal length",
        U.DURATION,
        A.AVERAGE,
        D.LOWER,
        S.COMPUTED,
    ),
    CatalogueKPI(
        "time_to_win",
        "Средний срок выигранной сделки",
        "Average time to win",
        U.DURATION,
        A.AVERAGE,
        D.LOWER,
        S.COMPUTED,
        source_items=(23,),
    ),
    # Lower is better here too: bad leads should be disqualified early (DOMAIN.md, funnel).
    CatalogueKPI(
        "time_to_loss",
        "Средний срок проигранной сделки",
        "Average time to loss",
        U.DURATION,
        A.AVERAGE,
        D.LOWER,
        S.COMPUTED,
        source_items=(24,),
    ),
    # Velocity and coverage are computed from the whole open pipeline, not summed by day.
    CatalogueKPI(
        "sales_velocity",
        "Скорость продаж в день",
        "Sales velocity per day",
        U.MONEY,
        A.LAST,
        source=S.COMPUTED,
        decimals=2,
        source_items=(21,),
    ),
    CatalogueKPI(
        "pipeline_coverage",
        "Покрытие плана воронкой",
        "Pipeline coverage",
        U.PERCENT,
        A.LAST,
        source=S.COMPUTED,
        decimals=1,
        source_items=(22,),
    ),
    # The client base (farmers).
    CatalogueKPI(
        "repeat_deals",
        "Повторные сделки",
        "Repeat deals",
        U.COUNT,
        source=S.CRM,
        standard=True,
    ),
    CatalogueKPI(
        "repeat_sum",
        "Сумма повторных продаж",
        "Repeat sales, sum",
        U.MONEY,
        source=S.CRM,
        decimals=2,
        standard=True,
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
        standard=True,
    ),
    CatalogueKPI(
        "repeat_customers",
        "Повторные клиенты",
        "Repeat customers",
        U.COUNT,
        source=S.CRM,
    ),
    # Shares of the client base are computed over the purchase history as of the last day.
    CatalogueKPI(
        "repeat_customers_pct",
        "Доля повторных клиентов",
        "Repeat customers, %",
        U.PERCENT,
        A.LAST,
        source=S.COMPUTED,
        decimals=1,
    ),
    CatalogueKPI(
        "retention",
        "Удержание клиентов",
        "Customer retention",
        U.PERCENT,
        A.LAST,
        source=S.COMPUTED,
        decimals=1,
        source_items=(34,),
    ),
    CatalogueKPI(
        "churn",
        "Отток клиентов",
        "Customer churn",
        U.PERCENT,
        A.LAST,
        D.LOWER,
        S.COMPUTED,
        decimals=1,
        source_items=(35,),
    ),
    CatalogueKPI(
        "stale_clients",
        "Клиенты без контакта 30 дней",
        "Clients not contacted for 30 days",
        U.COUNT,
        A.LAST,
        D.LOWER,
        S.COMPUTED,
        source_items=(7,),
    ),
    CatalogueKPI(
        "clv",
        "Пожизненная ценность клиента (LTV)",
        "Customer lifetime value (LTV)",
        U.MONEY,
        A.LAST,
        source=S.COMPUTED,
        decimals=2,
        source_items=(33,),
    ),
    # LTV ÷ the month's acquisition cost per new client; healthy near 3 (DOMAIN.md, item 33).
    CatalogueKPI(
        "ltv_cac",
        "LTV : CAC",
        "LTV : CAC",
        U.NUMBER,
        A.LAST,
        source=S.COMPUTED,
        decimals=2,
        source_items=(33,),
    ),
    CatalogueKPI(
        "receivables",
        "Дебиторская задолженность",
        "Receivables",
        U.MONEY,
        A.LAST,
        D.LOWER,
        decimals=2,
        # The closing balance of account 62 per client, from 1C (payments/).
        source=S.ACCOUNTING,
        standard=True,
    ),
    # Call quality control.
    CatalogueKPI(
        "call_quality",
        "Качество звонков по чек-листу",
        "Call quality (checklist score)",
        U.PERCENT,
        A.AVERAGE,
        source=S.QUALITY,
        decimals=1,
        source_items=(36,),
    ),
]

# The default set of each standard sales role, in display order.
ROLE_SETS = {
    "hunter": ["calls", "long_calls", "talk_time", "leads"],
    "closer": ["meetings", "deals_won", "deals_sum", "avg_check"],
    "farmer": ["repeat_deals", "repeat_sum", "repeat_avg_check", "receivables"],
}

# How the product answers an item of the source list.
AS_KPI = "kpi"
ELSEWHERE = "elsewhere"
UNAVAILABLE = "unavailable"
SOURCE_STATUSES = (AS_KPI, ELSEWHERE, UNAVAILABLE)


@dataclass(frozen=True)
class SourceItem:
    number: int
    name_ru: str
    name_en: str
    status: str
    kpi_codes: tuple[str, ...] = ()
    note_ru: str = ""
    note_en: str = ""


_FUNNEL_RU = "Показывается на странице воронки, а не отдельным KPI."
_FUNNEL_EN = "Shown on the funnel page rather than as a single KPI."

# The source list of DOMAIN.md, in its order.
SOURCE_LIST: list[SourceItem] = [
    SourceItem(1, "Сгенерированные лиды", "Leads generated", AS_KPI, ("leads",)),
    SourceItem(2, "Квалифицированные лиды (SQL)", "Qualified leads (SQL)", AS_KPI, ("sql",)),
    SourceItem(
        3, "Время реакции на заявку", "Response time to a request", AS_KPI, ("response_time",)
    ),
    SourceItem(
        4,
        "Открываемость писем",
        "E-mail open rate",
        UNAVAILABLE,
        note_ru="Нужно отслеживание открытий писем; этих данных у продукта нет.",
        note_en="Needs e-mail open tracking, which the product does not hold.",
    ),
    SourceItem(5, "Повторные встречи", "Follow-up meetings", AS_KPI, ("followup_meetings",)),
    SourceItem(
        6,
        "Проведённые звонки и демо к назначенным",
        "Calls and demos held vs scheduled",
        AS_KPI,
        ("demos_scheduled", "demos_held", "show_rate"),
        note_ru="Доходимость ниже 80 % — проблема.",
        note_en="A show rate below 80 % is a problem.",
    ),
    SourceItem(
        7,
        "Дата последнего контакта",
        "Last contact date",
        AS_KPI,
        ("stale_clients",),
        note_ru="Как KPI: число клиентов, с которыми не было контакта 30 дней.",
        note_en="As a KPI: the number of clients not contacted for 30 days.",
    ),
    SourceItem(
        8,
        "Прогревающие цепочки",
        "Warm-up sequences",
        UNAVAILABLE,
        note_ru="Нужна система автоматизации маркетинга; этих данных у продукта нет.",
        note_en="Needs marketing automation data, which the product does not hold.",
    ),
    SourceItem(
        9,
        "События цифрового следа",
        "Digital-footprint events",
        UNAVAILABLE,
        note_ru="Нужна веб-аналитика; этих данных у продукта нет.",
        note_en="Needs web analytics, which the product does not hold.",
    ),
    SourceItem(
        10,
        "Упоминания бренда",
        "Brand mentions",
        UNAVAILABLE,
        note_ru="Нужен мониторинг СМИ и соцсетей; этих данных у продукта нет.",
        note_en="Needs media monitoring, which the product does not hold.",
    ),
    SourceItem(
        11,
        "Конверсия посетителей в лиды",
        "Visitor-to-lead conversion",
        UNAVAILABLE,
        note_ru="Нужна веб-аналитика (число посетителей сайта); этих данных у продукта нет.",
        note_en="Needs web analytics (site visitors), which the product does not hold.",
    ),
    SourceItem(
        12,
        "Конверсия лидов в сделки",
        "Leads to opportunities",
        AS_KPI,
        ("opportunities", "lead_to_opportunity"),
    ),
    SourceItem(
        13,
        "Цены в сравнении с конкурентами",
        "Pricing vs competitors",
        UNAVAILABLE,
        note_ru="Нужны цены конкурентов; этих данных у продукта нет.",
        note_en="Needs competitor prices, which the product does not hold.",
    ),
    SourceItem(14, "Сделки на доске", "Deals on the board", AS_KPI, ("open_deals",)),
    SourceItem(
        15,
        "Сделки по этапам",
        "Deals by stage",
        ELSEWHERE,
        note_ru=_FUNNEL_RU,
        note_en=_FUNNEL_EN,
    ),
    SourceItem(
        16,
        "Конверсия между этапами",
        "Stage-to-stage conversion",
        ELSEWHERE,
        note_ru=_FUNNEL_RU,
        note_en=_FUNNEL_EN,
    ),
    SourceItem(
        17,
        "Время на каждом этапе",
        "Time in each stage",
        ELSEWHERE,
        note_ru=_FUNNEL_RU,
        note_en=_FUNNEL_EN,
    ),
    SourceItem(
        18,
        "Сделки по каналам привлечения",
        "Deals by acquisition channel",
        ELSEWHERE,
        note_ru=_FUNNEL_RU,
        note_en=_FUNNEL_EN,
    ),
    SourceItem(
        19,
        "Повторные продажи по каналам",
        "Repeat sales by channel",
        ELSEWHERE,
        note_ru=_FUNNEL_RU,
        note_en=_FUNNEL_EN,
    ),
    SourceItem(
        20,
        "Стоимость сессии",
        "Cost per session",
        UNAVAILABLE,
        note_ru="Нужны веб-аналитика и расходы на рекламу; этих данных у продукта нет.",
        note_en="Needs web analytics and ad spend, which the product does not hold.",
    ),
    SourceItem(21, "Скорость продаж", "Sales velocity", AS_KPI, ("sales_velocity",)),
    SourceItem(
        22,
        "Покрытие плана воронкой",
        "Pipeline coverage",
        AS_KPI,
        ("pipeline_coverage",),
        note_ru="Норма — в 3–4 раза больше плана по выручке (300–400 %).",
        note_en="Healthy at 3–4× the revenue target (300–400 %).",
    ),
    SourceItem(23, "Среднее время до продажи", "Average time to convert", AS_KPI, ("time_to_win",)),
    SourceItem(24, "Среднее время до проигрыша", "Average time to loss", AS_KPI, ("time_to_loss",)),
    SourceItem(
        25,
        "Доля команды, выполнившей план",
        "Share of the team meeting quota",
        ELSEWHERE,
        note_ru="Показывается на панели команды руководителя.",
        note_en="Shown on the team dashboard.",
    ),
    SourceItem(
        26,
        "Конверсия выданных лидов в продажу",
        "Close rate on provided leads",
        AS_KPI,
        ("lead_close_rate",),
    ),
    SourceItem(27, "Конверсия в продажу", "Conversion rate", AS_KPI, ("conversion",)),
    SourceItem(
        28, "Темп привлечения клиентов", "Client acquisition rate", AS_KPI, ("new_clients",)
    ),
    SourceItem(29, "Доля закрытых сделок", "Deal close rate", AS_KPI, ("close_rate",)),
    SourceItem(30, "Выручка на сделку", "Revenue per deal", AS_KPI, ("avg_check",)),
    SourceItem(
        31,
        "Рост продаж по месяцам",
        "Monthly sales growth",
        ELSEWHERE,
        note_ru="Показывается на панели как сравнение с прошлым периодом.",
        note_en="Shown on the dashboard as the comparison with the previous period.",
    ),
    SourceItem(
        32,
        "Средняя маржа",
        "Average margin",
        UNAVAILABLE,
        note_ru="Нужна себестоимость; этих данных у продукта нет.",
        note_en="Needs cost prices, which the product does not hold.",
    ),
    SourceItem(
        33,
        "Пожизненная ценность клиента (LTV) и LTV : CAC",
        "Customer lifetime value (and LTV : CAC)",
        AS_KPI,
        ("clv", "ltv_cac"),
        note_ru=(
            "LTV : CAC в норме около 3 : 1; затраты на привлечение по месяцам вводит "
            "администратор на странице «Клиенты»."
        ),
        note_en=(
            "LTV : CAC is healthy near 3 : 1; the admin enters the monthly acquisition cost "
            "on the Clients page."
        ),
    ),
    SourceItem(34, "Удержание клиентов", "Customer retention", AS_KPI, ("retention",)),
    SourceItem(35, "Отток клиентов по менеджерам", "Churn by manager", AS_KPI, ("churn",)),
    SourceItem(
        36, "Качество звонков по чек-листу", "Call checklist quality", AS_KPI, ("call_quality",)
    ),
    SourceItem(
        37,
        "Соотношение «слушать / говорить» в звонках",
        "Listen/talk ratio in calls",
        UNAVAILABLE,
        note_ru="Нужна речевая аналитика записей звонков; этих данных у продукта нет.",
        note_en="Needs speech analytics of call recordings, which the product does not hold.",
    ),
]

_DECIMALS = {U.COUNT: 0, U.MONEY: 2, U.DURATION: 0, U.PERCENT: 1, U.NUMBER: 2}


def check_catalogue() -> None:
    """Raise AssertionError if the catalogue, the role sets or the source list disagree."""
    by_code: dict[str, CatalogueKPI] = {}
    for kpi in CATALOGUE:
        assert kpi.code not in by_code, f"catalogue code {kpi.code!r} is not unique"
        assert kpi.unit in U.values, f"{kpi.code}: unknown unit {kpi.unit!r}"
        assert kpi.aggregation in A.values, f"{kpi.code}: unknown aggregation {kpi.aggregation!r}"
        assert kpi.direction in D.values, f"{kpi.code}: unknown direction {kpi.direction!r}"
        assert kpi.source in S.values, f"{kpi.code}: unknown source {kpi.source!r}"
        assert kpi.decimals == _DECIMALS[kpi.unit], (
            f"{kpi.code}: a {kpi.unit} KPI has {_DECIMALS[kpi.unit]} decimals, not {kpi.decimals}"
        )
        if kpi.aggregation == A.RATIO:
            for part in ("numerator", "denominator"):
                code = getattr(kpi, part)
                assert code, f"ratio {kpi.code}: no {part}"
                assert code in by_code, (
                    f"ratio {kpi.code}: {part} {code!r} is not a catalogue KPI defined earlier"
                )
                assert by_code[code].aggregation == A.SUM, (
                    f"ratio {kpi.code}: {part} {code!r} is not sum-aggregated"
                )
                # A standard KPI is installed at creation, so the sums it divides must be too.
                assert not kpi.standard or by_code[code].standard, (
                    f"standard ratio {kpi.code}: {part} {code!r} is not standard"
                )
        else:
            assert kpi.numerator is None and kpi.denominator is None, (
                f"{kpi.code}: only a ratio KPI has a numerator and a denominator"
            )
        by_code[kpi.code] = kpi

    for role, codes in ROLE_SETS.items():
        for code in codes:
            assert code in by_code, f"role set {role}: {code!r} is not in the catalogue"
            assert by_code[code].standard, f"role set {role}: {code!r} is not standard"

    numbers = [item.number for item in SOURCE_LIST]
    assert numbers == list(range(1, 38)), f"source list numbers are not exactly 1..37: {numbers}"
    items = {item.number: item for item in SOURCE_LIST}
    for item in SOURCE_LIST:
        assert item.status in SOURCE_STATUSES, f"source item {item.number}: bad status"
        if item.status == AS_KPI:
            assert item.kpi_codes, f"source item {item.number}: answered as a KPI but names none"
            for code in item.kpi_codes:
                assert code in by_code, f"source item {item.number}: unknown KPI {code!r}"
                assert item.number in by_code[code].source_items, (
                    f"source item {item.number} names {code!r}, whose source_items omit it"
                )
        else:
            assert not item.kpi_codes, f"source item {item.number}: {item.status} but names KPIs"
            assert item.note_ru and item.note_en, (
                f"source item {item.number}: {item.status} needs a note saying why"
            )

    for kpi in CATALOGUE:
        for number in kpi.source_items:
            item = items.get(number)
            assert item is not None and item.status == AS_KPI, (
                f"{kpi.code}: source item {number} is not answered as a KPI"
            )
            assert kpi.code in item.kpi_codes, (
                f"{kpi.code}: source item {number} does not name it in kpi_codes"
            )
