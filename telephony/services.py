"""Writes for telephony: connecting a PBX, taking its events, and assigning the calls that
matched nobody. A call reaches the figures only through crm_sync.services.call_upsert,
which keeps one record per PBX call id whichever source brought it first."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto, permissions
from accounts import services as account_services
from accounts.models import Company, CompanyToken, User
from crm_sync import services as crm_services
from crm_sync.models import Call, Source
from telephony import selectors
from telephony.models import PBXConnection, PBXEvent
from telephony.vendors.base import Event, Secrets

# How old an event may be when it arrives: vendors retry for minutes, not days. Older is a
# replay of a captured request, refused even if its id was never seen (ids are kept).
REPLAY_WINDOW = datetime.timedelta(days=1)
CLOCK_SKEW = datetime.timedelta(minutes=5)
# Vendors that sign with a key and secret they issue; the others prove requests only by
# the secret in our URL.
SIGNING = {PBXConnection.Vendor.MANGO, PBXConnection.Vendor.ZADARMA, PBXConnection.Vendor.NOVOFON}


def _now() -> datetime.datetime:
    """The receiver's clock (a test sets it to the day its recorded payloads were sent)."""
    return timezone.now()


class Stale(Exception):
    """The event is outside the replay window."""


def connection_create(
    *, company: Company, vendor: str, api_key: str = "", api_secret: str = "", actor: User
) -> tuple[PBXConnection, str]:
    """Connects a PBX; returns the connection and the key of its URL, shown once."""
    permissions.require_configure(actor)
    if vendor not in PBXConnection.Vendor.values:
        raise ValidationError({"vendor": _("Выберите АТС из списка.")})
    if PBXConnection.objects.filter(company=company, vendor=vendor).exists():
        raise ValidationError({"vendor": _("Эта АТС уже подключена.")})
    if vendor in SIGNING and not (api_key.strip() and api_secret.strip()):
        raise ValidationError(
            {"api_secret": _("Эта АТС подписывает запросы: укажите её ключ и секрет (соль).")}
        )
    label = PBXConnection.Vendor(vendor).label
    with transaction.atomic():
        token, key = account_services.company_token_create(
            company=company,
            name=_("АТС %(vendor)s") % {"vendor": label},
            scopes=[CompanyToken.Scope.CALLS_PUSH],
            actor=actor,
        )
        connection = PBXConnection.objects.create(
            company=company,
            vendor=vendor,
            token=token,
            api_key=api_key.strip(),
            api_secret=crypto.encrypt(api_secret.strip()) if api_secret.strip() else "",
        )
    return connection, key


def connection_delete(*, connection: PBXConnection, actor: User) -> None:
    """Disconnects a PBX: its URL stops working at once; the calls it brought stay."""
    permissions.require_configure(actor)
    with transaction.atomic():
        account_services.company_token_revoke(token=connection.token, actor=actor)
        connection.delete()


def connection_secrets(connection: PBXConnection) -> Secrets:
    secret = crypto.decrypt(connection.api_secret) if connection.api_secret else ""
    return Secrets(key=connection.api_key, secret=secret)


# --- Events -------------------------------------------------------------------------------


def events_take(*, connection: PBXConnection, events: list[Event]) -> list[Call]:
    """Stores each new event and merges its call. A replayed event (seen id) changes
    nothing; one outside the window raises `Stale` before anything is stored."""
    now = _now()
    for event in events:
        if not (now - REPLAY_WINDOW <= event.occurred_at <= now + CLOCK_SKEW):
            raise Stale(event.event_id)
    calls: list[Call] = []
    with transaction.atomic():
        touched: list[str] = []
        for event in events:
            try:
                with transaction.atomic():
                    PBXEvent.objects.create(
                        company=connection.company, connection=connection,
                        call_id=event.call_id[:128], event_id=event.event_id,
                        occurred_at=event.occurred_at, facts=_stored(event.facts),
                    )  # fmt: skip
            except IntegrityError:
                continue  # the same request again: taken already
            if event.call_id[:128] not in touched:
                touched.append(event.call_id[:128])
        for call_id in touched:
            call = call_merge(connection=connection, call_id=call_id)
            if call is not None:
                calls.append(call)
        PBXConnection.objects.filter(pk=connection.pk).update(last_event_at=now)
    return calls


def _stored(facts: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime.datetime) else v for k, v in facts.items()}


def call_facts(*, connection: PBXConnection, call_id: str) -> dict[str, Any]:
    """A call's events folded in the order they happened: what a later event says wins,
    and an event that does not mention a fact leaves it as it was."""
    merged: dict[str, Any] = {}
    for facts in PBXEvent.objects.filter(
        company=connection.company, connection=connection, call_id=call_id
    ).values_list("facts", flat=True):
        merged.update({k: v for k, v in facts.items() if v not in (None, "")})
    return merged


def call_merge(*, connection: PBXConnection, call_id: str) -> Call | None:
    """Stores (or updates) the call once an event says it ended; before that it is not a
    call made yet."""
    company = connection.company
    facts = call_facts(connection=connection, call_id=call_id)
    if not facts.get("ended") or "started_at" not in facts:
        return None
    who = {name: str(facts.get(name) or "") for name in ("extension", "sip_login", "number")}
    manager = selectors.manager_for(company=company, **who)
    phone = str(facts.get("phone") or "")
    call, _outcome = crm_services.call_upsert(
        company=company,
        source=Source.TELEPHONY,
        data=crm_services.CallData(
            external_id=_external_id(connection.vendor, call_id),
            direction=facts["direction"],
            started_at=datetime.datetime.fromisoformat(facts["started_at"]),
            duration=int(facts.get("duration") or 0),
            answered=bool(facts.get("answered")) and bool(facts.get("duration")),
            manager=manager,
            client=crm_services.client_resolve(company=company, phone=phone),
            phone=phone,
            pbx_call_id=call_id,
            recording_url=str(facts.get("recording_url") or ""),
            pbx_user=pbx_user_label(**who),
        ),
    )
    return call


def _external_id(vendor: str, call_id: str) -> str:
    external = f"{vendor}:{call_id}"
    if len(external) > 64:
        import hashlib

        external = f"{vendor}:{hashlib.sha256(call_id.encode()).hexdigest()[:48]}"
    return external


# --- Whom the PBX named ---------------------------------------------------------------------

IDENTITY_KINDS = {"ext": "extension", "sip": "sip_login", "tel": "phone_numbers"}


def pbx_user_label(*, extension: str = "", sip_login: str = "", number: str = "") -> str:
    """ "ext:101", "sip:ivanov" or "tel:79001234567": what an unmatched call keeps."""
    if extension:
        return f"ext:{extension.strip()}"[:64]
    if sip_login:
        return f"sip:{sip_login.strip().lower()}"[:64]
    digits = crm_services.normalize_phone(number)
    return f"tel:{digits}"[:64] if digits else ""


def unmatched_assign(*, company: Company, pbx_user: str, manager: User, actor: User) -> int:
    """Gives the calls the PBX made under `pbx_user` to `manager`, and remembers it on the
    manager's card so that the next calls find them. Returns the number of calls given;
    their days' figures are recomputed (and the totals marked) by the one figures entry."""
    permissions.require_configure(actor)
    kind, _sep, value = pbx_user.partition(":")
    field = IDENTITY_KINDS.get(kind)
    if field is None or not value or manager.company_id != company.pk:
        raise ValidationError(_("Неизвестный сотрудник АТС."))
    with transaction.atomic():
        current = getattr(manager, field)
        if field == "phone_numbers":
            account_services.user_update(
                user=manager, actor=actor, phone_numbers=",".join(filter(None, [current, value]))
            )
        elif current and current != value:
            raise ValidationError(
                _("У сотрудника уже указан другой %(what)s: %(current)s. Измените его в карточке.")
                % {"what": User._meta.get_field(field).verbose_name, "current": current}
            )
        else:
            account_services.user_update(user=manager, actor=actor, **{field: value})
        calls = list(
            Call.objects.select_for_update().filter(
                company=company, manager__isnull=True, pbx_user=pbx_user
            )
        )
        Call.objects.filter(pk__in=[c.pk for c in calls]).update(manager=manager, pbx_user="")
        crm_services.day_figures_refresh_many(
            company=company,
            pairs={(manager.pk, company.local_time(c.started_at).date()) for c in calls},
        )
    return len(calls)
