"""Where a call's recording plays. A link the PBX sent (Sipuni, UIS, a CRM note) is used as
it is; Mango and Zadarma send an id, and the file is reached through a short-lived link
signed with the company's secrets when somebody clicks «Запись»."""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import httpx

from crm_sync.models import Call
from telephony import services
from telephony.models import PBXConnection
from telephony.vendors import mango, zadarma

ZADARMA_API = {
    PBXConnection.Vendor.ZADARMA: "https://api.zadarma.com",
    PBXConnection.Vendor.NOVOFON: "https://api.novofon.com",
}


class RecordingUnavailable(Exception):
    pass


def recording_link(*, call: Call) -> str:
    ref = call.recording_url
    if ref.startswith(("https://", "http://")):
        return ref
    if ref.startswith(mango.RECORDING_PREFIX):
        connection = _connection(call, [PBXConnection.Vendor.MANGO])
        return mango.recording_link(
            recording_id=ref.removeprefix(mango.RECORDING_PREFIX),
            secrets=services.connection_secrets(connection),
        )
    if ref.startswith(zadarma.RECORDING_PREFIX):
        connection = _connection(call, list(ZADARMA_API))
        return _zadarma_link(connection, ref.removeprefix(zadarma.RECORDING_PREFIX))
    raise RecordingUnavailable(ref)


def _connection(call: Call, vendors: list[str]) -> PBXConnection:
    # The call's own PBX where it names it (the receiver's external id starts with the
    # vendor): a company may have Zadarma and Novofon both, each with its own secrets.
    named = call.external_id.partition(":")[0]
    vendors = [named] if named in vendors else vendors
    connection = PBXConnection.objects.filter(company=call.company_id, vendor__in=vendors).first()
    if connection is None:
        raise RecordingUnavailable("the PBX is no longer connected")
    return connection


def _zadarma_link(connection: PBXConnection, call_id: str) -> str:
    """GET /v1/pbx/record/request/ (https://zadarma.com/ru/support/api/#api_pbx_record_request)
    for the recording's `call_id` (NOTIFY_END's or NOTIFY_RECORD's `call_id_with_rec`), a
    link living `lifetime` seconds (180 to 5 184 000), signed as the API's «Авторизация» says:
    `Authorization: key:base64(hex HMAC-SHA1(method + query + md5(query)))`, the query sorted
    by name and built as PHP's http_build_query does. The query holds `format=json`, as the
    vendor's own clients (zadarma/user-api-v1 Client::call, user-api-py-v1) send and sign it.
    The answer: `status`, `link` (`links` when asked by pbx_call_id), `lifetime_till`."""
    secrets = services.connection_secrets(connection)
    method = "/v1/pbx/record/request/"
    params = {"call_id": call_id, "format": "json", "lifetime": "600"}
    query = urlencode(sorted(params.items()))
    text = method + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324 (their scheme)
    digest = hmac.new(secrets.secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    header = f"{secrets.key}:{base64.b64encode(digest.encode()).decode()}"
    try:
        response = httpx.get(
            f"{ZADARMA_API[connection.vendor]}{method}?{query}",
            headers={"Authorization": header},
            timeout=10,
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise RecordingUnavailable(str(error)) from error
    link = body.get("link") or next(iter(body.get("links") or []), "")
    if body.get("status") != "success" or not str(link).startswith("https://"):
        raise RecordingUnavailable(str(body.get("message") or body)[:200])
    return str(link)
