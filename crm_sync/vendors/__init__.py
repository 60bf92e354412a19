"""The CRMs we pull from and take webhooks from, one module each behind `base.Vendor`,
found by the connection's kind (`CRMConnection.vendor`)."""

from typing import Any

from crm_sync.vendors import amocrm, bitrix24
from crm_sync.vendors.base import Vendor

VENDORS: dict[str, Vendor[Any]] = {
    vendor.kind: vendor for vendor in (amocrm.VENDOR, bitrix24.VENDOR)
}


def vendor_for(kind: str) -> Vendor[Any]:
    return VENDORS[kind]
