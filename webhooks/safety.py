"""Where a webhook may be sent: no request of ours reaches the company's own network.

A subscription's address is checked when it is saved and again, after DNS resolution, before
every attempt; the request then goes to the very address that was checked (the name only in
`Host` and the TLS server name), so a name re-pointed between the check and the request
(DNS rebinding) cannot steer it inside. `WEBHOOKS_ALLOW_PRIVATE` lifts the address rule and
the https rule (for tests and a closed installation); `DEBUG` lifts the https rule alone.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeAddress(ValueError):
    """The address may not receive webhooks; the message says why, in the user's language."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    ip: str


def _allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check(url: str, *, unresolved_ok: bool = False) -> Target:
    """The checked target of `url`, or UnsafeAddress.

    unresolved_ok: a name that does not resolve (yet) passes, with no `ip` (saving a
    subscription before its receiver is online); an address it does resolve to must be public.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeAddress(_("Неверный адрес.")) from None
    scheme = parts.scheme.lower()
    https_only = not (settings.DEBUG or _allow_private())
    if scheme not in ("http", "https") or (https_only and scheme != "https"):
        raise UnsafeAddress(_("Адрес должен начинаться с https://."))
    host = parts.hostname or ""
    if not host:
        raise UnsafeAddress(_("Неверный адрес."))
    if parts.username or parts.password:
        raise UnsafeAddress(_("Адрес не должен содержать логин и пароль."))
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        if unresolved_ok:
            return Target(scheme=scheme, host=host, port=port, ip="")
        raise UnsafeAddress(_("Адрес не найден: проверьте имя сервера.")) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise UnsafeAddress(_("Адрес не найден: проверьте имя сервера."))
    if not _allow_private() and not all(_is_public(ip) for ip in addresses):
        # Every address the name has must be public: otherwise the one picked could be inside.
        raise UnsafeAddress(
            _("Адрес ведёт во внутреннюю сеть (локальный или частный адрес): так нельзя.")
        )
    return Target(scheme=scheme, host=host, port=port, ip=str(addresses[0]))
