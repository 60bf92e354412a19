"""amoCRM and Bitrix24 stand-ins on loopback, serving the recorded payloads in `payloads/`.

They filter and page like the real APIs (amoCRM `filter[updated_at][from]` and `page`,
answering 204 when nothing matches; Bitrix24 `>=DATE_MODIFY`, `start`/`next`), check the
token, log every request, and answer "too many requests" once to any path put in `limit`.
amoCRM leads carry their loss reason and source only when `with` asks for them, and
`with=only_deleted` lists `deleted_leads` instead. Which documentation page each recorded
payload follows: payloads/README.md.
"""

import copy
import datetime
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

PAYLOADS = Path(__file__).parent / "payloads"
AMO_TOKEN = "t0ken"
BITRIX_SECRET = "k3yk3yk3y"
APP_TOKEN = "qu1ck8r0wnf0xj8mps0v3rth3l4zyd0g"
PAGE = 2


def load(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


def form(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes().strip()


def _iso(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


class FakeCRM:
    def __init__(self) -> None:
        self.log: list[tuple[float, str, dict]] = []
        self.limit: set[str] = set()
        self.leads = load("amocrm_leads.json")["_embedded"]["leads"]
        self.contacts = load("amocrm_contacts.json")["_embedded"]["contacts"]
        self.notes = load("amocrm_call_notes.json")["_embedded"]["notes"]
        self.users = load("amocrm_users.json")["_embedded"]["users"]
        self.deals = load("bitrix24_crm_deal_list.json")["result"]
        self.bitrix_contacts = load("bitrix24_crm_contact_list.json")["result"]
        self.calls = load("bitrix24_voximplant_statistic_get.json")["result"]
        self.bitrix_users = load("bitrix24_user_get.json")["result"]
        self.deleted_leads: list[dict] = []
        self.companies = load("amocrm_companies.json")["_embedded"]["companies"]
        self.account = load("amocrm_account.json")
        self.lead_fields = load("amocrm_leads_custom_fields.json")["_embedded"]["custom_fields"]
        self.bitrix_companies = load("bitrix24_crm_company_list.json")["result"]
        self.statuses = load("bitrix24_crm_status_list.json")["result"]
        self.currencies = load("bitrix24_crm_currency_list.json")["result"]
        self.deal_fields = load("bitrix24_crm_deal_fields.json")["result"]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.answer(self, *fake.amocrm(self))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.answer(self, *fake.bitrix24(self.path, json.loads(body or b"{}")))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler, status: int, body: dict | None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def requests_to(self, path: str) -> list[tuple[float, str, dict]]:
        return [entry for entry in self.log if entry[1] == path]

    def lead_requests(self) -> list[tuple[float, str, dict]]:
        """Requests for leads, not for deleted ones."""
        return [e for e in self.requests_to("/api/v4/leads") if e[2].get("with") != "only_deleted"]

    # --- amoCRM ---

    def amocrm(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict | None]:
        url = urlsplit(handler.path)
        params = parse_qsl(url.query)
        self.log.append((time.monotonic(), url.path, dict(params)))
        if handler.headers.get("Authorization") != f"Bearer {AMO_TOKEN}":
            return 401, {"title": "Unauthorized", "status": 401}
        if url.path in self.limit:
            self.limit.discard(url.path)
            return 429, None
        ids = {value for key, value in params if key == "filter[id][]"}
        since = dict(params).get("filter[updated_at][from]")
        if url.path == "/api/v4/account":
            return 200, copy.deepcopy(self.account)
        with_ = set(dict(params).get("with", "").split(","))
        sources = {
            "/api/v4/leads": (
                "leads",
                self.deleted_leads if "only_deleted" in with_ else self._leads_with(with_),
            ),
            "/api/v4/contacts": ("contacts", self.contacts),
            "/api/v4/contacts/notes": ("notes", self.notes),
            "/api/v4/users": ("users", self.users),
            "/api/v4/companies": ("companies", self.companies),
            "/api/v4/leads/custom_fields": ("custom_fields", self.lead_fields),
        }
        if url.path not in sources:
            return 404, {"title": "Not found"}
        key, items = sources[url.path]
        items = [i for i in items if not ids or str(i["id"]) in ids]
        types = {value for key, value in params if key == "filter[note_type][]"}
        items = [i for i in items if not types or i["note_type"] in types]
        if since:
            items = [i for i in items if i["updated_at"] >= int(since)]
        items = sorted(items, key=lambda i: (i.get("updated_at", 0), i["id"]))
        page = int(dict(params).get("page", 1))
        chunk = items[(page - 1) * PAGE : page * PAGE]
        if not chunk:
            return 204, None
        links = {"self": {"href": f"https://example.amocrm.ru{url.path}?page={page}"}}
        if len(items) > page * PAGE:
            links["next"] = {"href": f"https://example.amocrm.ru{url.path}?page={page + 1}"}
        return 200, {"_page": page, "_links": links, "_embedded": {key: copy.deepcopy(chunk)}}

    def _leads_with(self, with_: set[str]) -> list[dict]:
        """What `with` did not ask for is not in the answer."""
        leads = copy.deepcopy(self.leads)
        for lead in leads:
            embedded = lead.get("_embedded", {})
            if "loss_reason" not in with_:
                embedded.pop("loss_reason", None)
            if "source" not in with_:
                embedded.pop("source", None)
        return leads

    # --- Bitrix24 ---

    def bitrix24(self, path: str, body: dict) -> tuple[int, dict]:
        _empty, _rest, _user, secret, method = path.split("/")
        method = method.removesuffix(".json")
        self.log.append((time.monotonic(), method, body))
        if secret != BITRIX_SECRET:
            return 401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid token"}
        if method in self.limit:
            self.limit.discard(method)
            return 503, load("bitrix24_query_limit_exceeded.json")
        if method == "crm.deal.list":
            items, moment = self.deals, "DATE_MODIFY"
        elif method == "crm.contact.list":
            items, moment = self.bitrix_contacts, ""
        elif method == "voximplant.statistic.get":
            items, moment = self.calls, "CALL_START_DATE"
        elif method == "user.get":
            items, moment = self.bitrix_users, ""
        elif method == "crm.company.list":
            items, moment = self.bitrix_companies, ""
        elif method == "crm.status.list":
            items, moment = self.statuses, ""
        elif method == "crm.currency.list":  # no navigation: every currency at once
            return 200, {"result": copy.deepcopy(self.currencies), "total": len(self.currencies)}
        elif method == "crm.deal.fields":
            return 200, {"result": copy.deepcopy(self.deal_fields), "time": {"duration": 0.001}}
        else:
            return 400, {
                "error": "ERROR_METHOD_NOT_FOUND",
                "error_description": "Method not found!",
            }
        where = body.get("filter") or body.get("FILTER") or {}
        if "@ID" in where:
            items = [i for i in items if i["ID"] in {str(x) for x in where["@ID"]}]
        since = where.get(f">={moment}")
        if since:
            items = [i for i in items if _iso(i[moment]) >= _iso(since)]
        if moment:
            items = sorted(items, key=lambda i: (_iso(i[moment]), int(i["ID"])))
        start = int(body.get("start", 0))
        answer = {"result": copy.deepcopy(items[start : start + PAGE]), "total": len(items)}
        if len(items) > start + PAGE:
            answer["next"] = start + PAGE
        answer["time"] = {"start": time.time(), "finish": time.time(), "duration": 0.001}
        return 200, answer


def running() -> Iterator[FakeCRM]:
    crm = FakeCRM()
    yield crm
    crm.close()


def map_stages(cast, *external_ids: str) -> None:  # type: ignore[no-untyped-def]
    from crm_sync.models import PipelineStage

    stages = list(PipelineStage.objects.filter(company=cast.company))
    for stage, external_id in zip(stages, external_ids, strict=False):
        stage.external_id = external_id
        stage.save()


def amo_connection(cast, crm: FakeCRM):  # type: ignore[no-untyped-def]
    """The cast's amoCRM connection, its first two stages mapped, pointed at the fake."""
    from accounts import tenancy
    from crm_sync.models import CRMConnection

    with tenancy.tenant_context(cast.company):
        map_stages(cast, "61390010", "61390013")
        connection = CRMConnection.objects.get(company=cast.company, vendor="amocrm")
        connection.base_url = crm.url
        connection.save()
    return connection


def bitrix_connection(cast, crm: FakeCRM):  # type: ignore[no-untyped-def]
    from accounts import tenancy
    from crm_sync import connectors

    with tenancy.tenant_context(cast.company):
        map_stages(cast, "NEW", "PREPARATION")
        return connectors.connection_configure(
            company=cast.company, vendor="bitrix24", base_url=f"{crm.url}/rest/1",
            token=BITRIX_SECRET, application_token=APP_TOKEN,
        )  # fmt: skip
