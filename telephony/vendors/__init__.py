"""The PBXs the receiver understands, by the vendor code in its URL."""

from telephony.vendors import mango, sipuni, uis, zadarma
from telephony.vendors.base import Vendor

VENDORS: dict[str, Vendor] = {
    "mango": mango.VENDOR,
    "zadarma": zadarma.VENDOR,
    # Novofon is Zadarma's Russian platform: the same notifications and signature.
    "novofon": zadarma.VENDOR,
    "sipuni": sipuni.VENDOR,
    "uis": uis.VENDOR,
}
