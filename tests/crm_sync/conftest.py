"""The loopback CRM server and the alpha company's connections to it."""

from collections.abc import Iterator

import pytest

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
