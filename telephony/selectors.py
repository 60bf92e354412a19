"""Reads for telephony: whom a PBX names, and the calls that matched nobody."""

from dataclasses import dataclass

from django.db.models import Count, Max, Q, Sum

from accounts.models import Company, User
from crm_sync.models import Call, Source
from crm_sync.services import normalize_phone
from telephony.models import PBXConnection


def manager_for(
    *, company: Company, extension: str = "", sip_login: str = "", number: str = ""
) -> User | None:
    """The employee the PBX names by extension, SIP login or their own number."""
    match = Q(pk__in=[])
    if extension:
        match |= Q(extension=extension.strip())
    if sip_login:
        match |= Q(sip_login=sip_login.strip().lower())
    digits = normalize_phone(number)
    if digits:
        match |= Q(phone_numbers__regex=rf"(^|,){digits}(,|$)")
    return User.objects.filter(match, company=company).order_by("-is_active", "pk").first()


@dataclass
class Unmatched:
    pbx_user: str  # as the PBX named them
    calls: int
    talk_seconds: int
    last_call: object


def unmatched_calls(*, company: Company) -> list[Unmatched]:
    """The PBX's names that matched no employee, with their calls: the mapping screen."""
    rows = (
        Call.objects.filter(company=company, manager__isnull=True, source=Source.TELEPHONY)
        .exclude(pbx_user="")
        .values("pbx_user")
        .annotate(
            calls=Count("id"),
            talk_seconds=Sum("duration", filter=Q(answered=True)),
            last_call=Max("started_at"),
        )
        .order_by("-calls", "pbx_user")
    )
    return [
        Unmatched(r["pbx_user"], r["calls"], r["talk_seconds"] or 0, r["last_call"]) for r in rows
    ]


def connections(*, company: Company) -> list[PBXConnection]:
    return list(PBXConnection.objects.filter(company=company).select_related("token"))
