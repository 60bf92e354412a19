"""The client's address: one answer for the login lockout (django-axes) and the audit log.

`REMOTE_ADDR` is the peer of the connection; behind a reverse proxy that is the proxy.
`X-Forwarded-For` is whatever the client wants it to be, except for the entries appended
by proxies we run: with `TRUSTED_PROXY_COUNT = n`, the n-th entry from the right was
written by our outermost proxy and is the client; everything left of it is the client's
own claim. With 0 (the default) the header is ignored altogether.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    peer = _address(request.META.get("REMOTE_ADDR"))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        # Not every proxy we trust appended its peer: the request did not come through them.
        return peer
    return _address(hops[-proxies]) or peer
