"""A company with the four PBXs connected, the receiver's clock on the day the recorded
payloads were sent, and helpers that post them as each vendor does."""

import base64
import datetime
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import User
from telephony import services

PAYLOADS = Path(__file__).parent / "payloads"
# The day after the recorded calls: all of them inside the replay window.
NOW = datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.UTC)
MANGO_KEY, MANGO_SALT = "vpbx-test-key-0123456789abcdef", "vpbx-test-salt-fedcba9876543210"
ZADARMA_KEY, ZADARMA_SECRET = "b7f5c3a1d9e8", "4c2a8e6f0b1d3579"
FORM = "application/x-www-form-urlencoded"


def load(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    monkeypatch.setattr(services, "_now", lambda: NOW)
    return NOW


def connect(cast: Any, vendor: str, key: str = "", secret: str = "") -> str:
    with tenancy.tenant_context(cast.company):
        _connection, url_key = services.connection_create(
            company=cast.company, vendor=vendor, api_key=key, api_secret=secret, actor=cast.admin
        )
    return reverse("telephony-receive", kwargs={"vendor": vendor, "key": url_key})


@pytest.fixture
def pbx(alpha: Any, clock: datetime.datetime) -> dict[str, str]:
    """The receivers' URLs; managers 0, 1 and 2 named by the PBXs' extensions."""
    with tenancy.tenant_context(alpha.company):
        User.objects.filter(pk=alpha.managers[0].pk).update(extension="101")
        User.objects.filter(pk=alpha.managers[1].pk).update(extension="102")
        User.objects.filter(pk=alpha.managers[2].pk).update(extension="201", sip_login="7701")
    return {
        "mango": connect(alpha, "mango", MANGO_KEY, MANGO_SALT),
        "zadarma": connect(alpha, "zadarma", ZADARMA_KEY, ZADARMA_SECRET),
        "sipuni": connect(alpha, "sipuni"),
        "uis": connect(alpha, "uis"),
    }


def mango_post(client: Client, url: str, event: dict, *, salt: str = MANGO_SALT) -> Any:
    text = json.dumps(event["json"], ensure_ascii=False)
    sign = hashlib.sha256(f"{MANGO_KEY}{text}{salt}".encode()).hexdigest()
    body = {"vpbx_api_key": MANGO_KEY, "sign": sign, "json": text}
    return client.post(url + event["path"], body)


def zadarma_signature(data: dict, secret: str = ZADARMA_SECRET) -> str:
    order = {
        "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
        "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
        "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
        "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
    }.get(data["event"], ("caller_id", "called_did", "call_start"))
    text = "".join(data.get(name, "") for name in order)
    hexdigest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hexdigest.encode()).decode()


def zadarma_post(client: Client, url: str, data: dict, *, secret: str = ZADARMA_SECRET) -> Any:
    return client.post(url, data, headers={"Signature": zadarma_signature(data, secret)})


def uis_post(client: Client, url: str, data: dict) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")
