"""What a deal's codes mean in its CRM, and what its amount is worth in the company's money.

The CRM's reference lists (each vendor's `catalog()`) are kept in the connection's one cache
of the CRM's lists, `CRMConnection.catalog`, refreshed by the rule of `crm_sync.catalog`; a
deal, pulled or brought by a webhook, is read with them:

- `sources`: channel code → name (Bitrix24 `crm.status.list`, ENTITY_ID=SOURCE);
- `stages`: stage code → name (Bitrix24: the lost stages, whose names are its loss reasons);
- `rates`: currency → its value in the CRM's base currency (Bitrix24 `crm.currency.list`:
  AMOUNT / AMOUNT_CNT; amoCRM: its account currency only, at 1).

Currency: a deal in the company's currency is taken as is; one in another currency is
converted through the CRM's own rates; one whose rate the CRM does not give (amoCRM has no
rates: an account kept in another currency than the company's) is not stored, with the
reason on the connection, rather than summed with roubles.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from crm_sync.vendors.base import Skip, amount

CENT = Decimal("0.01")


@dataclass
class Reference:
    currency: str  # the company's (accounts.Company.currency)
    amount_field: str = ""  # CRMConnection.amount_field
    catalog: dict[str, Any] = field(default_factory=dict)

    def name(self, kind: str, code: Any) -> str:
        return str(self.catalog.get(kind, {}).get(str(code), "")) if code else ""

    def money(self, value: Any, currency: str | None) -> Decimal:
        """`value` in `currency` (None or empty: the CRM's own) in the company's currency."""
        total = amount(value)
        currency = (currency or self.catalog.get("currency") or self.currency).upper()
        if currency == self.currency or not total:
            return total
        rates = self.catalog.get("rates", {})
        try:
            rate = Decimal(str(rates[currency])) / Decimal(str(rates[self.currency]))
        except (KeyError, InvalidOperation, ZeroDivisionError):
            raise Skip(
                _(
                    "сумма в %(currency)s, а компания считает в %(own)s: CRM не даёт курса, "
                    "сделка не учтена"
                )
                % {"currency": currency, "own": self.currency}
            ) from None
        return (total * rate).quantize(CENT)


def split_money(value: Any) -> tuple[Any, str]:
    """A Bitrix24 money field's value, "1500.50|USD", as (1500.50, "USD")."""
    text = str(value or "")
    number, _bar, currency = text.partition("|")
    return number, currency
