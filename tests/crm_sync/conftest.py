"""The loopback CRM server and the alpha company's connections to it."""

from collections.abc import Iterator

import pytest

from crm_sync import coordination
from crm_sync.models import CRMConnection
from tests.crm_sync import fake_crm
from tests.crm_sync.fake_crm import FakeCRM


@pytest.fixture
def fake() -> Iterator[FakeCRM]:
    yield from fake_crm.running()


@pytest.fixture
def amo(alpha, fake) -> CRMConnection:
    return fake_crm.amo_connection(alpha, fake)


@pytest.fixture
def bitrix(alpha, fake) -> CRMConnection:
    return fake_crm.bitrix_connection(alpha, fake)


@pytest.fixture(autouse=True)
def no_pending_crm_work() -> Iterator[None]:
    """A connection's lock and webhook batch live in Redis, keyed by its id: none is left
    from an earlier test."""
    yield
    client = coordination._redis()
    if client is not None:
        for key in client.scan_iter("crm_sync:*"):
            client.delete(key)
