"""Login lockout: a login is locked from one address, and the address is the real client's."""

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from accounts.models import AuditEvent

X, Y, PROXY = "203.0.113.10", "198.51.100.20", "10.0.0.2"


def login(username: str, password: str, **meta: str) -> int:
    return (
        Client()
        .post(reverse("login"), {"username": username, "password": password}, **meta)
        .status_code
    )


def fail_five_times(username: str, **meta: str) -> None:
    statuses = [login(username, "wrong-password", **meta) for _ in range(5)]
    # The fifth failure is answered with the lockout page already.
    assert statuses == [200, 200, 200, 200, 429]


def test_five_failures_lock_that_login_from_that_address_only(alpha, password):
    fail_five_times("alpha.head", REMOTE_ADDR=X)
    assert login("alpha.head", password, REMOTE_ADDR=X) == 429
    # A colleague behind the same NAT or proxy still logs in...
    assert login("alpha.admin", password, REMOTE_ADDR=X) == 302
    # ...and so does the owner of the login from elsewhere.
    assert login("alpha.head", password, REMOTE_ADDR=Y) == 302
    assert login("alpha.head", password, REMOTE_ADDR=X) == 429


def test_the_case_of_the_login_does_not_buy_more_attempts(alpha, password):
    for typed in ("alpha.head", "Alpha.Head", "ALPHA.HEAD", " alpha.head", "alpha.HEAD"):
        login(typed, "wrong-password", REMOTE_ADDR=X)
    assert login("alpha.head", password, REMOTE_ADDR=X) == 429


def test_behind_one_trusted_proxy_the_forwarded_client_is_locked_and_logged(
    alpha, password, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    # What the client sent first is its own claim; the proxy appended the real peer.
    fail_five_times("alpha.head", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {X}")
    assert login("alpha.head", password, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=X) == 429
    assert login("alpha.head", password, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=Y) == 302
    with tenancy.tenant_context(alpha.company):
        addresses = set(
            AuditEvent.objects.filter(company=alpha.company, action="login_failed").values_list(
                "ip", flat=True
            )
        )
        [logged_in] = AuditEvent.objects.filter(company=alpha.company, action="login")
    assert addresses == {X}
    assert logged_in.ip == Y


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(alpha, password, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for number in range(5):
        forged = f"192.0.2.{number}"
        login("alpha.head", "wrong-password", REMOTE_ADDR=X, HTTP_X_FORWARDED_FOR=forged)
    # A new forged address each time bought no new attempts.
    assert login("alpha.head", password, REMOTE_ADDR=X, HTTP_X_FORWARDED_FOR=Y) == 429
    with tenancy.tenant_context(alpha.company):
        addresses = set(
            AuditEvent.objects.filter(company=alpha.company, action="login_failed").values_list(
                "ip", flat=True
            )
        )
    assert addresses == {X}


def test_a_garbage_address_from_the_proxy_falls_back_to_the_peer(alpha, password, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    for forwarded in ("not-an-ip, also-not", X, "<script>, 1.2.3.4"):
        assert (
            login("alpha.head", "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded) == 200
        )
    with tenancy.tenant_context(alpha.company):
        addresses = set(
            AuditEvent.objects.filter(company=alpha.company, action="login_failed").values_list(
                "ip", flat=True
            )
        )
    # One hop is too few for two proxies; a garbage hop is no address: the peer is logged.
    assert addresses == {PROXY}
