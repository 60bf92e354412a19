"""CRM credentials at rest: Fernet (AES-128-CBC + HMAC) under a key from the settings.

`CRM_CREDENTIALS_KEY` (a Fernet key) is the key in production; without it the key is derived
from SECRET_KEY, so the embedded set-up works with nothing configured.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.CRM_CREDENTIALS_KEY
    if not key:
        digest = hashlib.sha256(("salesdesk-crm-credentials:" + settings.SECRET_KEY).encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key)


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("the CRM credentials were encrypted under another key") from error


def masked(secret: str) -> str:
    """What the settings page shows of a stored secret: its last four characters at most."""
    if not secret:
        return ""
    return "•" * 8 + (secret[-4:] if len(secret) >= 12 else "")
