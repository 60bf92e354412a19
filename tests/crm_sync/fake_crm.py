"""amoCRM and Bitrix24 stand-ins on loopback, serving the recorded payloads in `payloads/`.

They filter and page like the real APIs (amoCRM `filter[updated_at][from]`/`[to]`,
`order[updated_at]`/`order[id]` and `page`, answering 204 when nothing matches,
amocrm.ru/developers/content/crm_platform/leads-api «Список сделок»; Bitrix24
`>=DATE_MODIFY`, `>ID`, `start`/`next` and `start=-1` without a count,
apidocs.bitrix24.ru «Как выбрать все элементы списка»), and by pipeline: amoCRM
`filter[pipeline_id][]` (amocrm.ru/developers/content/crm_platform/filters-api, a multiple
filter), Bitrix24 `@CATEGORY_ID` («@ — IN»,
apidocs.bitrix24.ru/api-reference/crm/deals/crm-deal-list.html). They check the token, log
every request and the ids of the records each answer served (`served`, to count what a pull
downloads),
and answer "too many requests" once to any path put in `limit` (amoCRM's 429 with the
`Retry-After` in `retry_after`). `between_pages` runs after each answer: a test changes
records there, as a user would while a pull reads them.

OAuth 2.0 (`OAuthServer`): amoCRM's `POST /oauth2/access_token`
(amocrm.ru/developers/content/oauth/step-by-step) and Bitrix24's
`GET oauth.bitrix.info/oauth/token/` (apidocs.bitrix24.ru «OAuth 2.0 протокол авторизации»):
an authorization code and each refresh token work once; an access token can be expired by
the test; Bitrix24 then answers 401 `expired_token`. `blocked` answers 403 to everything,
the token endpoints too, as both do to an IP address they blocked; Bitrix24 methods in
`no_scope` answer `insufficient_scope`.

The admin's side of it, once a test sets `oauth.redirect_uris[vendor]` (the application's
registered redirect URI): amoCRM's consent page `GET /oauth?client_id=&state=&mode=`
(amocrm.ru/developers/content/api/auth «Авторизация в публичных интеграциях»), whose
«Разрешить» returns to the redirect URI with `code`, `referer` (the account's host: this
server), `state`, `platform` and `client_id`; and a Bitrix24 portal's
`GET /oauth/authorize/?client_id=&state=` (apidocs.bitrix24.ru «Полный протокол авторизации
OAuth 2.0», shaped as bitrix-tools/b24-rest-docs settings/oauth/index.md), which, the user
being signed in to the portal, redirects at once with `code`, `state`, `domain`,
`member_id`, `scope` (`oauth.scope`) and `server_domain` (this server, standing in for
oauth.bitrix24.tech too). amoCRM's exchange must name the registered redirect URI.

Their pipelines (amoCRM `/api/v4/leads/pipelines`; Bitrix24 `crm.category.list`,
`crm.status.list`) are served always; the stage history (amoCRM `/api/v4/events`, Bitrix24
`crm.stagehistory.list`) starts empty, and a test loads `with_history()` or adds its own.
amoCRM leads carry their loss reason and source only when `with` asks for them, and
`with=only_deleted` lists `deleted_leads` instead. Bitrix24's leads (`crm.lead.list`, paged
like the deals) are those of a portal in its classic mode: `crm_mode` is what
`crm.settings.mode.get` answers (apidocs.bitrix24.ru «crm.settings.mode.get»: 1 classic with
leads, 2 «Простая CRM» without). Which documentation page each recorded payload follows:
payloads/README.md.
"""

import copy
import datetime
import html
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

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
        # (path or method, ids of the records the answer carried), every list answered.
        self.served: list[tuple[str, list[str]]] = []
        self.limit: set[str] = set()
        self.retry_after = ""
        self.blocked = False
        self.no_scope: set[str] = set()
        self.oauth = OAuthServer()
        self.between_pages: Callable[[str, dict], None] = lambda path, params: None
        self.leads = load("amocrm_leads.json")["_embedded"]["leads"]
        self.contacts = load("amocrm_contacts.json")["_embedded"]["contacts"]
        self.notes = load("amocrm_call_notes.json")["_embedded"]["notes"]
        # Call notes on leads and companies (none unless a test adds them).
        self.lead_notes: list[dict] = []
        self.company_notes: list[dict] = []
        self.users = load("amocrm_users.json")["_embedded"]["users"]
        self.deals = load("bitrix24_crm_deal_list.json")["result"]
        self.bitrix_contacts = load("bitrix24_crm_contact_list.json")["result"]
        self.calls = load("bitrix24_voximplant_statistic_get.json")["result"]
        self.bitrix_users = load("bitrix24_user_get.json")["result"]
        self.pipelines = load("amocrm_pipelines.json")["_embedded"]["pipelines"]
        self.events: list[dict] = []
        self.categories = load("bitrix24_crm_category_list.json")["result"]["categories"]
        self.statuses = load("bitrix24_crm_status_list.json")["result"]
        self.stage_history: list[dict] = []
        self.deleted_leads: list[dict] = []
        self.companies = load("amocrm_companies.json")["_embedded"]["companies"]
        self.account = load("amocrm_account.json")
        self.lead_fields = load("amocrm_leads_custom_fields.json")["_embedded"]["custom_fields"]
        self.bitrix_companies = load("bitrix24_crm_company_list.json")["result"]
        self.currencies = load("bitrix24_crm_currency_list.json")["result"]
        self.deal_fields = load("bitrix24_crm_deal_fields.json")["result"]
        self.bitrix_leads = load("bitrix24_crm_lead_list.json")["result"]
        self.crm_mode = load("bitrix24_crm_settings_mode_get.json")["result"]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query))
                if url.path == "/oauth/token/":  # oauth.bitrix.info
                    if fake.blocked:
                        return fake.answer(self, 403, {"error": "ACCESS_DENIED"})
                    return fake.answer(self, *fake.oauth.grant(query, bitrix=True))
                if url.path == "/oauth":  # www.amocrm.ru/oauth, the consent page
                    return fake.page(self, *fake.oauth.consent(query))
                if url.path == "/oauth/authorize/":  # a Bitrix24 portal
                    return fake.redirect(self, *fake.oauth.authorize(query))
                answer = fake.amocrm(self)
                fake.between_pages(*fake.log[-1][1:])  # before the client can ask again
                fake.answer(self, *answer)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/oauth2/access_token":  # amoCRM
                    if fake.blocked:
                        return fake.answer(self, 403, {"title": "Forbidden", "status": 403})
                    return fake.answer(self, *fake.oauth.grant(json.loads(body)))
                answer = fake.bitrix24(self.path, json.loads(body or b"{}"))
                fake.between_pages(*fake.log[-1][1:])
                fake.answer(self, *answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.oauth.endpoint = f"{self.url}/rest/"
        self.oauth.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler, status: int, body: dict | None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        handler.send_response(status)
        if status == 429 and self.retry_after:
            handler.send_header("Retry-After", self.retry_after)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def page(self, handler: BaseHTTPRequestHandler, status: int, html: str) -> None:
        data = html.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def redirect(self, handler: BaseHTTPRequestHandler, status: int, location: str) -> None:
        if status != 302:
            return self.page(handler, status, location)
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def requests_to(self, path: str) -> list[tuple[float, str, dict]]:
        return [entry for entry in self.log if entry[1] == path]

    def with_history(self) -> "FakeCRM":
        """The recorded stage history, and the leads of the other pipelines it names."""
        self.events = load("amocrm_events.json")["_embedded"]["events"]
        self.leads += load("amocrm_leads_other_pipelines.json")["_embedded"]["leads"]
        self.stage_history = load("bitrix24_crm_stagehistory_list.json")["result"]["items"]
        return self

    def served_ids(self, path: str) -> list[str]:
        """The ids of the records answered to `path` (or Bitrix24 method), in order."""
        return [i for served, ids in self.served if served == path for i in ids]

    def lead_requests(self) -> list[tuple[float, str, dict]]:
        """Requests for leads, not for deleted ones."""
        return [e for e in self.requests_to("/api/v4/leads") if e[2].get("with") != "only_deleted"]

    # --- amoCRM ---

    def amocrm(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict | None]:
        url = urlsplit(handler.path)
        params = parse_qsl(url.query)
        self.log.append((time.monotonic(), url.path, dict(params)))
        if self.blocked:
            return 403, {"title": "Forbidden", "status": 403}
        bearer = handler.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer != AMO_TOKEN and not self.oauth.live(bearer):
            return 401, {"title": "Unauthorized", "status": 401}
        if url.path in self.limit:
            self.limit.discard(url.path)
            return 429, None
        if url.path == "/api/v4/leads/pipelines":
            body = {"_total_items": len(self.pipelines), "_embedded": {"pipelines": self.pipelines}}
            return 200, copy.deepcopy(body)
        if url.path == "/api/v4/events":
            return self.amocrm_events(url.path, params)
        ids = {value for key, value in params if key == "filter[id][]"}
        since = dict(params).get("filter[updated_at][from]")
        until = dict(params).get("filter[updated_at][to]")
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
            "/api/v4/leads/notes": ("notes", self.lead_notes),
            "/api/v4/companies/notes": ("notes", self.company_notes),
            "/api/v4/users": ("users", self.users),
            "/api/v4/companies": ("companies", self.companies),
            "/api/v4/leads/custom_fields": ("custom_fields", self.lead_fields),
        }
        if url.path not in sources:
            return 404, {"title": "Not found"}
        key, items = sources[url.path]
        items = [i for i in items if not ids or str(i["id"]) in ids]
        pipelines = {value for key, value in params if key == "filter[pipeline_id][]"}
        items = [i for i in items if not pipelines or str(i.get("pipeline_id")) in pipelines]
        types = {value for key, value in params if key == "filter[note_type][]"}
        items = [i for i in items if not types or i["note_type"] in types]
        if since:
            items = [i for i in items if i["updated_at"] >= int(since)]
        if until:
            items = [i for i in items if i["updated_at"] <= int(until)]
        if "order[id]" in dict(params):
            items = sorted(items, key=lambda i: i["id"])
        else:
            items = sorted(items, key=lambda i: (i.get("updated_at", 0), i["id"]))
        page = int(dict(params).get("page", 1))
        chunk = items[(page - 1) * PAGE : page * PAGE]
        self.served.append((url.path, [str(i["id"]) for i in chunk]))
        if not chunk:
            return 204, None
        links = {"self": {"href": f"https://example.amocrm.ru{url.path}?page={page}"}}
        if len(items) > page * PAGE:
            links["next"] = {"href": f"https://example.amocrm.ru{url.path}?page={page + 1}"}
        return 200, {"_page": page, "_links": links, "_embedded": {key: copy.deepcopy(chunk)}}

    def amocrm_events(self, path: str, params: list[tuple[str, str]]) -> tuple[int, dict | None]:
        """Events newest first, as amoCRM lists them; 100 a page at most."""
        where = dict(params)
        items = [e for e in self.events if e["type"] == where.get("filter[type]", e["type"])]
        if "filter[created_at][from]" in where:
            items = [e for e in items if e["created_at"] >= int(where["filter[created_at][from]"])]
        ids = {value for key, value in params if key == "filter[entity_id][]"}
        if ids:
            items = [e for e in items if str(e["entity_id"]) in ids]
        items = sorted(items, key=lambda e: (e["created_at"], e["id"]), reverse=True)
        page, size = int(where.get("page", 1)), min(int(where.get("limit", 100)), 100)
        chunk = items[(page - 1) * size : page * size]
        self.served.append((path, [str(e["entity_id"]) for e in chunk]))  # whose moves
        if not chunk:
            return 204, None
        links = {"self": {"href": f"https://example.amocrm.ru{path}?page={page}"}}
        if len(items) > page * size:
            links["next"] = {"href": f"https://example.amocrm.ru{path}?page={page + 1}"}
        return 200, {"_page": page, "_links": links, "_embedded": {"events": copy.deepcopy(chunk)}}

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
        parts = path.split(
            "/"
        )  # /rest/<user>/<code>/<method>.json, or an app's /rest/<method>.json
        method = parts[-1].removesuffix(".json")
        self.log.append((time.monotonic(), method, body))
        if self.blocked:
            return 403, {"error": "ACCESS_DENIED", "error_description": "Access denied"}
        if len(parts) == 3:
            token = body.pop("auth", "")
            if token in self.oauth.expired:
                return 401, {
                    "error": "expired_token",
                    "error_description": "The access token provided has expired.",
                }
            if not self.oauth.live(token):
                return 401, {
                    "error": "invalid_token",
                    "error_description": "The access token provided is invalid.",
                }
        elif parts[3] != BITRIX_SECRET:
            return 401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid token"}
        if method in self.no_scope:
            return 401, {
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges",
            }
        if method in self.limit:
            self.limit.discard(method)
            return 503, load("bitrix24_query_limit_exceeded.json")
        if method == "crm.deal.list":
            items, moment = self.deals, "DATE_MODIFY"
        elif method == "crm.lead.list":
            items, moment = self.bitrix_leads, "DATE_MODIFY"
        elif method == "crm.settings.mode.get":  # a scalar result, no navigation
            return 200, {**load("bitrix24_crm_settings_mode_get.json"), "result": self.crm_mode}
        elif method == "crm.contact.list":
            items, moment = self.bitrix_contacts, ""
        elif method == "voximplant.statistic.get":
            items, moment = self.calls, "CALL_START_DATE"
        elif method == "user.get":
            items, moment = self.bitrix_users, ""
        elif method == "crm.category.list":
            return 200, {"result": {"categories": copy.deepcopy(self.categories)},
                         "total": len(self.categories)}  # fmt: skip
        elif method == "crm.status.list":
            entity = (body.get("filter") or {}).get("ENTITY_ID")
            items = [s for s in self.statuses if entity in (None, s["ENTITY_ID"])]
            return 200, {"result": copy.deepcopy(items), "total": len(items)}
        elif method == "crm.stagehistory.list":
            return 200, self.bitrix_history(body)
        elif method == "crm.company.list":
            items, moment = self.bitrix_companies, ""
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
        if "@CATEGORY_ID" in where:
            categories = {str(x) for x in where["@CATEGORY_ID"]}
            items = [i for i in items if str(i.get("CATEGORY_ID")) in categories]
        if ">ID" in where:
            items = [i for i in items if int(i["ID"]) > int(where[">ID"])]
        for key, test in ((f">={moment}", "ge"), (f"<={moment}", "le"), (f">{moment}", "gt")):
            if moment and where.get(key):
                bound = _iso(where[key])
                items = [i for i in items if getattr(_iso(i[moment]), f"__{test}__")(bound)]
        order = body.get("order") or {}
        if list(order) == ["ID"] or body.get("SORT") == "ID":
            items = sorted(items, key=lambda i: int(i["ID"]))
        elif moment:
            items = sorted(items, key=lambda i: (_iso(i[moment]), int(i["ID"])))
        now = datetime.datetime.now(datetime.UTC).astimezone(
            datetime.timezone(datetime.timedelta(hours=3))
        )
        # apidocs.bitrix24.ru «Формат ответа»: `time` names the portal's clock.
        timing = {"start": time.time(), "finish": time.time(), "duration": 0.001,
                  "date_start": now.isoformat(timespec="seconds"),
                  "date_finish": now.isoformat(timespec="seconds")}  # fmt: skip
        start = int(body.get("start", 0))
        shown = items[:PAGE] if start == -1 else items[start : start + PAGE]
        self.served.append((method, [str(i.get("ID") or i.get("CALL_ID")) for i in shown]))
        if start == -1:  # the fast way: no count, no `next`
            return 200, {"result": copy.deepcopy(items[:PAGE]), "time": timing}
        answer = {"result": copy.deepcopy(items[start : start + PAGE]), "total": len(items)}
        if len(items) > start + PAGE:
            answer["next"] = start + PAGE
        answer["time"] = timing
        return 200, answer

    def bitrix_history(self, body: dict) -> dict:
        where = body.get("filter") or {}
        items = sorted(self.stage_history, key=lambda i: int(i["ID"]))
        if ">ID" in where:
            items = [i for i in items if int(i["ID"]) > int(where[">ID"])]
        if "@OWNER_ID" in where:
            items = [i for i in items if i["OWNER_ID"] in {str(x) for x in where["@OWNER_ID"]}]
        start = int(body.get("start", 0))
        self.served.append(
            ("crm.stagehistory.list", [i["OWNER_ID"] for i in items[start : start + PAGE]])
        )
        answer = {
            "result": {"items": copy.deepcopy(items[start : start + PAGE])},
            "total": len(items),
        }
        if len(items) > start + PAGE:
            answer["next"] = start + PAGE
        return answer


class OAuthServer:
    CLIENT_ID, CLIENT_SECRET, CODE = "app.1f2e3d", "s3cr3t-of-the-app", "def5020036a1"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes = {self.CODE}
        self.refresh: set[str] = set()  # unspent refresh tokens
        self.access: set[str] = set()
        self.expired: set[str] = set()
        self.grants: list[dict] = []
        self.counter = 0
        self.delay = 0.0  # a slow token endpoint, to let two refreshes overlap
        self.endpoint = ""
        self.host = ""  # the account's / portal's host and port
        # Each application's registered redirect URI, by vendor ("amocrm", "bitrix24").
        self.redirect_uris: dict[str, str] = {}
        self.scope = "crm,user,telephony"  # what the portal grants the application
        self.member_id = "a223c6b3710f85df22e9377d6c4f7553"
        self.issued: list[str] = []  # codes the consent pages gave out

    def _issue_code(self) -> str:
        with self.lock:
            code = f"code-{len(self.issued) + 1}"
            self.codes.add(code)
            self.issued.append(code)
        return code

    def consent(self, asked: dict) -> tuple[int, str]:
        """amoCRM's page where the user picks the account and allows access."""
        redirect_uri = self.redirect_uris.get("amocrm")
        if asked.get("client_id") != self.CLIENT_ID or not redirect_uri:
            return 400, "<h1>Интеграция не найдена</h1>"
        query = urlencode({"code": self._issue_code(), "referer": self.host,
                           "state": asked.get("state", ""), "platform": "1",
                           "client_id": self.CLIENT_ID})  # fmt: skip
        target = html.escape(f"{redirect_uri}?{query}")
        return 200, (
            '<!doctype html><html lang="ru"><title>Предоставить доступ</title>'
            f"<h1>Salesdesk запрашивает доступ к аккаунту {self.host}</h1>"
            f'<a id="allow" href="{target}">Разрешить</a></html>'
        )

    def authorize(self, asked: dict) -> tuple[int, str]:
        """A Bitrix24 portal, its user signed in: straight back to the application."""
        redirect_uri = self.redirect_uris.get("bitrix24")
        if asked.get("client_id") != self.CLIENT_ID or not redirect_uri:
            return 400, "<h1>Приложение не найдено</h1>"
        query = urlencode({"code": self._issue_code(), "state": asked.get("state", ""),
                           "domain": self.host, "member_id": self.member_id,
                           "scope": self.scope, "server_domain": self.host})  # fmt: skip
        return 302, f"{redirect_uri}?{query}"

    def live(self, token: str) -> bool:
        return token in self.access and token not in self.expired

    def expire_all(self) -> None:
        self.expired |= self.access

    def grant(self, asked: dict, *, bitrix: bool = False) -> tuple[int, dict]:
        time.sleep(self.delay)
        with self.lock:
            self.grants.append(asked)
            if (asked.get("client_id"), asked.get("client_secret")) != (
                self.CLIENT_ID, self.CLIENT_SECRET
            ):  # fmt: skip
                return 401, {"error": "invalid_client"}
            kind = asked.get("grant_type")
            registered = self.redirect_uris.get("amocrm")
            if not bitrix and registered and asked.get("redirect_uri") != registered:
                return 400, {"error": "invalid_grant", "hint": "Redirect URI mismatch"}
            if kind == "authorization_code" and asked.get("code") in self.codes:
                self.codes.discard(asked["code"])
            elif kind == "refresh_token" and asked.get("refresh_token") in self.refresh:
                self.refresh.discard(asked["refresh_token"])  # single use
            else:
                return 400, {"error": "invalid_grant", "hint": "Token has been revoked"}
            self.counter += 1
            access, refresh = f"access-{self.counter}", f"refresh-{self.counter}"
            self.access.add(access)
            self.refresh.add(refresh)
        if bitrix:  # where the portal's REST answers this application
            return 200, {
                "access_token": access, "refresh_token": refresh, "expires_in": 3600,
                "client_endpoint": self.endpoint, "scope": self.scope, "domain": self.host,
                "member_id": self.member_id, "server_endpoint": f"http://{self.host}/rest/",
                "status": "L",
            }  # fmt: skip
        return 200, {"token_type": "Bearer", "expires_in": 86400, "access_token": access,
                     "refresh_token": refresh}  # fmt: skip


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
