import datetime

from accounts.models import Company, SalesRole
from kpi.catalogue import CATALOGUE, ROLE_SETS
from kpi.models import KPI, RoleKPI


def catalogue_install(*, company: Company, effective_from: datetime.date | None = None) -> None:
    """Give a company the catalogue KPIs and the standard role sets."""
    effective_from = effective_from or datetime.date(2000, 1, 1)
    kpis: dict[str, KPI] = {}
    for item in CATALOGUE:
        kpi = KPI(
            company=company,
            code=item.code,
            name_ru=item.name_ru,
            name_en=item.name_en,
            unit=item.unit,
            aggregation=item.aggregation,
            direction=item.direction,
            source=item.source,
            decimals=item.decimals,
            numerator=kpis.get(item.numerator) if item.numerator else None,
            denominator=kpis.get(item.denominator) if item.denominator else None,
        )
        kpi.save()
        kpis[item.code] = kpi
    for role in SalesRole.objects.filter(company=company).exclude(kind=SalesRole.Kind.CUSTOM):
        for position, code in enumerate(ROLE_SETS[role.kind]):
            RoleKPI(
                company=company,
                sales_role=role,
                kpi=kpis[code],
                position=position,
                effective_from=effective_from,
            ).save()
