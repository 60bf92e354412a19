"""CRM credentials at rest: Fernet (AES-128-CBC + HMAC) under the keys of the settings.

`CRM_CREDENTIALS_KEY` holds one Fernet key or several, comma-separated (MultiFernet): the
first encrypts, every one decrypts, so a key is rotated without losing a token — put the new
key first, keep the old one after it, run `manage.py rotate_credentials_key` (which
re-encrypts every stored secret under the first key), then drop the old one. Without any
key, one is derived from SECRET_KEY, so the embedded set-up works with nothing configured
(`manage.py check --deploy` refuses that in production).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _keys() -> list[str]:
    keys = [key.strip() for key in settings.CRM_CREDENTIALS_KEY.split(",") if key.strip()]
    if not keys:
        digest = hashlib.sha256(("salesdesk-crm-credentials:" + settings.SECRET_KEY).encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return keys


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("the CRM credentials were encrypted under another key") from error


def reencrypt(token: str) -> str:
    """`token` under the first key (as it was when it already is); ValueError when no key
    of the settings opens it."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("the CRM credentials were encrypted under another key") from error


def encrypted_under_first_key(token: str) -> bool:
    if not token:
        return True
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def masked(secret: str) -> str:
    """What the settings page shows of a stored secret: its last four characters at most."""
    if not secret:
        return ""
    return "•" * 8 + (secret[-4:] if len(secret) >= 12 else "")
