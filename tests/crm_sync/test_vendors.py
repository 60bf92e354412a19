"""Every CRM a connection can name has one vendor module behind the one `Vendor` protocol."""

import inspect

import pytest

from crm_sync import vendors
from crm_sync.models import CRMConnection
from crm_sync.vendors.base import Vendor

METHODS = sorted(
    name for name, value in vars(Vendor).items() if inspect.isfunction(value) and name[0] != "_"
)


def _shape(function: object) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def test_each_connection_kind_has_its_vendor_and_its_own_source():
    assert set(vendors.VENDORS) == set(CRMConnection.Vendor.values)
    assert all(vendor.kind == kind for kind, vendor in vendors.VENDORS.items())
    sources = [vendor.source for vendor in vendors.VENDORS.values()]
    assert len(set(sources)) == len(sources)  # deals are keyed by (source, the CRM's id)


@pytest.mark.parametrize("kind", CRMConnection.Vendor.values)
def test_each_vendor_satisfies_the_protocol(kind):
    vendor = vendors.vendor_for(kind)
    assert isinstance(vendor, Vendor)
    # isinstance looks at the names only: the methods must take what the connectors pass.
    assert {"connect", "streams", "deal_from_payload", "verify_webhook", "webhook"} <= set(METHODS)
    for name in METHODS:
        assert _shape(getattr(type(vendor), name)) == _shape(getattr(Vendor, name)), name


def test_an_object_without_the_vendors_methods_is_not_one():
    class Half:
        kind, source = "half", "half"

        def users(self, client):
            return {}

    assert not isinstance(Half(), Vendor)
