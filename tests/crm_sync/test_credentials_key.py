"""CRM credentials under MultiFernet: a new key put first, the old kept after it, every
stored token still opens; the rotation command moves them to the new key, after which the old
key can go."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts import crypto, tenancy
from accounts.models import Company
from crm_sync import services
from crm_sync.models import CRMConnection
from payments.models import ODataConnection

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def stored(cast) -> CRMConnection:
    with tenancy.tenant_context(cast.company):
        return CRMConnection.objects.get(company=cast.company, vendor="amocrm")


def test_the_first_key_encrypts_and_every_key_decrypts():
    with override_settings(CRM_CREDENTIALS_KEY=OLD):
        under_old = crypto.encrypt("t0ken-old")
    with override_settings(CRM_CREDENTIALS_KEY=f"{NEW}, {OLD}"):
        assert crypto.decrypt(under_old) == "t0ken-old"
        under_new = crypto.encrypt("t0ken-new")
        assert not crypto.encrypted_under_first_key(under_old)
        assert crypto.encrypted_under_first_key(under_new)
    assert Fernet(NEW).decrypt(under_new.encode()) == b"t0ken-new"
    with override_settings(CRM_CREDENTIALS_KEY=OLD), pytest.raises(ValueError, match="another"):
        crypto.decrypt(under_new)


@pytest.mark.django_db
def test_rotation_moves_every_company_s_secrets_to_the_first_key(alpha, beta, capsys):
    with override_settings(CRM_CREDENTIALS_KEY=OLD):
        for cast, token in ((alpha, "alpha-t0ken"), (beta, "beta-t0ken")):
            with tenancy.tenant_context(cast.company):
                connection = stored(cast)
                services.connection_save(
                    company=cast.company, vendor="amocrm", base_url=connection.base_url,
                    token=token, connection=connection,
                )  # fmt: skip
                connection.event_token = crypto.encrypt(f"{token}-app")
                connection.save(update_fields=["event_token"])
                # The 1C OData password (payments/) goes through the same keys.
                ODataConnection.objects.filter(company=cast.company).update(
                    password=crypto.encrypt(f"{token}-1c")
                )
        # The company's Telegram bot token is stored through the same keys (docs/telegram.md);
        # the company's row changes under its own row-level security.
        with tenancy.tenant_context(alpha.company):
            Company.objects.filter(pk=alpha.company.pk).update(
                telegram_bot_token=crypto.encrypt("123456:alpha-bot")
            )

    with override_settings(CRM_CREDENTIALS_KEY=f"{NEW},{OLD}"):
        call_command("rotate_credentials_key")
        assert "7 secret(s) re-encrypted" in capsys.readouterr().out
        # Run again, nothing is left to do.
        call_command("rotate_credentials_key")
        assert "0 secret(s)" in capsys.readouterr().out

    # The old key is gone: every token still opens, with the new key alone.
    with override_settings(CRM_CREDENTIALS_KEY=NEW):
        for cast, token in ((alpha, "alpha-t0ken"), (beta, "beta-t0ken")):
            connection = stored(cast)
            assert services.connection_token(connection) == token
            assert crypto.decrypt(connection.event_token) == f"{token}-app"
            with tenancy.tenant_context(cast.company):
                onec = ODataConnection.objects.get(company=cast.company)
            assert crypto.decrypt(onec.password) == f"{token}-1c"
        assert Company.objects.get(pk=alpha.company.pk).telegram_token() == ("123456:alpha-bot")


@pytest.mark.django_db
def test_a_secret_under_no_known_key_is_named_and_left_alone(alpha):
    with override_settings(CRM_CREDENTIALS_KEY=OTHER):
        foreign = crypto.encrypt("lost")
    with tenancy.tenant_context(alpha.company):
        CRMConnection.objects.filter(company=alpha.company).update(credentials=foreign)
    with (
        override_settings(CRM_CREDENTIALS_KEY=f"{NEW},{OLD}"),
        pytest.raises(CommandError, match="could not be decrypted"),
    ):
        call_command("rotate_credentials_key")
    assert stored(alpha).credentials == foreign
