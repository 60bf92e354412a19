"""Secrets never reach the log, even at DEBUG with every SQL statement logged."""

import io
import logging
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.log_filters import MASK, SecretsFilter, mask
from crm_sync.models import CRMConnection
from tests.crm_sync import fake_crm
from tests.crm_sync.fake_crm import AMO_TOKEN, APP_TOKEN, BITRIX_SECRET, form
from tests.crm_sync.test_connectors_pull import pull
from tests.crm_sync.test_connectors_webhooks import amo_url, bitrix_url


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What the configured handlers write, with everything at DEBUG and SQL logged."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, SecretsFilter) for f in handler.filters)
    ]
    assert handlers, "settings.LOGGING puts the secrets filter on the root's handlers"
    stream = io.StringIO()
    loggers = [logging.getLogger(), logging.getLogger("django")]
    levels = [logger.level for logger in loggers]
    streams = [handler.setStream(stream) for handler in handlers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    yield stream
    connection.force_debug_cursor = False
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
    for handler, old in zip(handlers, streams, strict=True):
        handler.setStream(old)


@pytest.fixture
def crm() -> Iterator[fake_crm.FakeCRM]:
    yield from fake_crm.running()


def test_logins_api_tokens_crm_pulls_and_webhooks_log_no_secret(client, alpha, password, crm, log):
    amo = fake_crm.amo_connection(alpha, crm)
    bitrix = fake_crm.bitrix_connection(alpha, crm)
    client.post(reverse("login"), {"username": "alpha.head", "password": "wrong-Pa55word"})
    client.post(reverse("login"), {"username": "alpha.head", "password": password})
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    assert api.get(reverse("api-me")).status_code == 200
    assert api.post(reverse("api-team-create"), {"name": ""}).status_code == 400
    forged = Client(headers={"Authorization": f"Token {alpha.api_key[:-4]}abcd"})
    assert forged.get(reverse("api-me")).status_code == 401
    pull(amo)
    pull(bitrix)
    with tenancy.tenant_context(alpha.company):
        amo = CRMConnection.objects.get(pk=amo.pk)
    webhook_secret = amo.webhook_secret
    # The connection points at the fake, not the account in the payload: refused, and
    # Django logs the refused path, which carries the secret.
    refused = client.post(
        amo_url(amo),
        form("amocrm_webhook_status.txt"),
        content_type="application/x-www-form-urlencoded",
    )
    assert refused.status_code == 403
    client.post(
        bitrix_url(bitrix),
        {"event": "ONCRMDEALUPDATE", "auth[application_token]": APP_TOKEN[::-1]},
    )

    written = log.getvalue()
    assert "HTTP Request" in written and "Forbidden: /hooks/amocrm/" in written
    assert MASK in written
    secrets = {
        "password": password,
        "wrong password": "wrong-Pa55word",
        "API key": alpha.api_key,
        "API key's secret": alpha.api_key.partition(".")[2],
        "amoCRM token": AMO_TOKEN,
        "Bitrix24 webhook secret": BITRIX_SECRET,
        "Bitrix24 application token": APP_TOKEN,
        "amoCRM webhook secret": webhook_secret,
    }
    assert [name for name, secret in secrets.items() if secret in written] == []


def test_it_masks_what_the_app_and_its_libraries_write():
    key = "12.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
    for line, secret in [
        ("Authorization: Token " + key, key),
        ("{'username': 'a', 'password': 'hunter2-long'}", "hunter2-long"),
        ("password=hunter2-long&next=/", "hunter2-long"),
        ('"telegram_bot_token": "123456:AAEabcdefghijklmnopqrstuvwxyz012345"', "AAEabc"),
        ("GET https://api.telegram.org/bot123456:AAEabcdefghijklmnopqrstuvwxyz012345/x", "AAEabc"),
        ("POST http://crm.example/rest/1/k3yk3yk3y/crm.deal.list.json", "k3yk3yk3y"),
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOjF9.c2lnbmF0dXJl", "eyJzdWIiOjF9"),
    ]:
        assert secret not in mask(line), line
    assert mask("rollups: 3 totals rewritten for company 7") == (
        "rollups: 3 totals rewritten for company 7"
    )
