"""Every HTML form and page of the project, fed hostile values as every role.

Nothing here lists the forms: the walk starts at each role's home page, follows every link
and fills every URL pattern of the project with real codes of the cast, parses each page's
<form>s (and the htmx `hx-post`/`hx-get` targets inside them), then posts mutated copies:
one field hostile at a time, the others as rendered, with the CSRF token, as the role that
sees the form. Each request runs in a savepoint that is rolled back, so every request
starts from the same data and its own changes can be read before the rollback.

What must hold for every request:
- never a 500;
- a refused request (4xx, or a page that answers with an error, `role="alert"`) changed no
  row; a role that cannot open the page, or a user of another company, changed none either;
- whatever was stored holds no hostile figure (NaN, infinities, 1e30, a 40-digit number, a
  negative count, a year 9999, a NUL);
- a long value is never echoed whole outside the form control that holds it.
Pages are also opened with hostile query strings (`?start=9999-99-99`, `?team=<another
company's team>`...): a 4xx or a sane fallback, never a 500.

The results are computed once for the module; one test per URL name reads them, so a
failure names its URL and field, and a known failure of an area fixed elsewhere is an
xfail on that URL name and field alone (KNOWN below).
"""

import datetime
import logging
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts import tenancy
from accounts.models import Company, TenantModel
from crm_sync.imports import import_job_create
from crm_sync.models import Deal, ImportJob
from tests.accounts.test_url_leaks import PUBLIC, all_patterns
from tests.conftest import Cast, TenantClient, make_cast

ROLES = ("admin", "head", "manager", "quality")
OUTSIDER = "outsider"

HUGE_TEXT = "Ж" * 10_000
# label -> value; each goes into one field at a time.
HOSTILE: dict[str, str] = {
    "exponent": "1e30",
    "40 digits": "1" * 40,
    "negative": "-7",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-inf",
    "10 000 characters": HUGE_TEXT,
    "NUL": "a\x00b",
    "control characters": "\x1b[2J\x07\x08\x7f",
    "markup": '<script>alert("x")</script>',
    "unicode": "Ω≈ç√ 😀 \u202e\ufeff",
    "empty": "",
    "bad date": "9999-99-99",
    "far date": "9999-12-31",
}
# A hidden field, a select, a radio or a checkbox gets these (and another company's code);
# a role that sees a form it is not the first to see gets the last four.
FOR_CHOICES = ("markup", "empty", "exponent", "10 000 characters", "NUL")
SECOND_LOOK = FOR_CHOICES[-3:]
# Query-string values for every page.
HOSTILE_QUERY = {
    "bad date": "9999-99-99",
    "word": "abc",
    "exponent": "1e30",
    "negative": "-1",
    "NUL": "a\x00b",
    "10 000 characters": HUGE_TEXT,
}

# Not fuzzed: ending the session, the public hooks (the CRMs' and Telegram's, checked by
# their secrets) and the API (tests/test_api_fuzz.py), and /healthz (503 while no Celery
# worker runs: tests/accounts/test_health.py).
SKIP_PREFIXES = (
    "/api/", "/operator/", "/hooks/", "/telegram/", "/static/", "/logout/", "/login/",
    "/healthz", "/telephony/",
)  # fmt: skip
# Forms the cast's pages never show, so no link leads the fuzzer to them: the Telegram
# block's (only once a company has a bot and the person a bound chat) and the first-run
# checklist's (only for a company not yet set up). Their refusals are tested where they live.
UNLINKED = {
    "telegram-unbind": "tests/telegram_bot/test_bot.py, test_preferences.py",
    "telegram-preferences": "tests/telegram_bot/test_preferences.py",
    "checklist-dismiss": "tests/accounts/test_checklist.py",
    "sample-remove": "tests/accounts/test_sample.py (shown once a company has sample data)",
    "call-recording": "tests/telephony/test_recording.py (a redirect to the PBX's recording)",
    "crm-oauth-start": "tests/crm_sync/test_oauth_connect.py (linked once the installation "
    "has a CRM's OAuth application configured)",
    "crm-oauth-callback": "tests/crm_sync/test_oauth_connect.py (where a CRM sends the admin)",
}
PAGES_PER_NAME = 2

# Failures in areas other engineers are fixing in parallel (issue 18): (URL name, field) ->
# the area. Field "?" is a query string parameter. Remove an entry once its area is merged.
KNOWN: dict[tuple[str, str], str] = {}

# Tables whose rows a request may write whatever it is refused: logs, visits, and the day's
# report draft, which keeps what was typed, refused or not, until the report is filed.
NOT_DATA = {"accounts_auditevent", "dashboard_dashboardvisit", "reports_reportdraft"}
# Tables where a stored negative number is a fact, not damage.
NEGATIVE_ALLOWED: set[tuple[str, str]] = set()


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str, str]]  # name, value, kind (text, hidden, select, file...)
    options: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    htmx: bool = False


class FormParser(HTMLParser):
    """Each <form>, its named controls and submit buttons, and the hx-post/hx-get targets
    inside it (they send the form's fields, `hx-include="closest form"`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.extra_actions: list[tuple[str, str]] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for hx in ("hx-get", "hx-post"):
            if tag == "a" and attrs.get(hx):
                self.links.append(attrs[hx])
        if tag == "form":
            method = attrs.get("method", "get").lower()
            action = attrs.get("action", "")
            if attrs.get("hx-post"):
                method, action = "post", attrs["hx-post"]
            elif attrs.get("hx-get"):
                method, action = "get", attrs["hx-get"]
            self._form = Form(method, action, [], htmx="hx-post" in attrs or "hx-get" in attrs)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag != "form" and attrs.get("hx-post"):
            self.extra_actions.append((attrs["hx-post"], str(len(self.forms) - 1)))
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image"):
                form.buttons.append((name, attrs.get("value", "")))
            elif kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs or (
                    kind == "radio" and not any(f[0] == name for f in form.fields)
                ):
                    form.fields.append((name, attrs.get("value", "on"), kind))
            else:
                form.fields.append((name, attrs.get("value", ""), kind))
        elif tag == "button" and name:
            form.buttons.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = name
            form.fields.append((name, "", "select"))
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            form.options.setdefault(self._select, []).append(value)
            index = next(i for i, f in enumerate(form.fields) if f[0] == self._select)
            if "selected" in attrs or len(form.options[self._select]) == 1:
                form.fields[index] = (self._select, value, "select")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._form and self._textarea:
            self._form.fields.append((self._textarea, self._text.lstrip("\n"), "textarea"))
            self._textarea = None


def parse(body: str) -> FormParser:
    parser = FormParser()
    parser.feed(body)
    for action, index in parser.extra_actions:
        source = parser.forms[int(index)]
        parser.forms.append(
            Form("post", action, list(source.fields), dict(source.options), [], htmx=True)
        )
    return parser


@dataclass
class Failure:
    name: str
    field: str
    role: str
    label: str
    problem: str

    def __str__(self) -> str:
        return f"{self.name} [{self.field}={self.label}] as {self.role}: {self.problem}"


@dataclass
class Results:
    failures: list[Failure] = field(default_factory=list)
    pages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    actions: set[str] = field(default_factory=set)
    requests: int = 0
    seconds: float = 0.0
    stages: dict[str, tuple[int, float]] = field(default_factory=dict)
    cost: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))


def url_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def wanted(path: str) -> bool:
    parts = urlsplit(path)
    return (
        not parts.scheme
        and not parts.netloc
        and parts.path.startswith("/")
        and not parts.path.startswith(SKIP_PREFIXES)
    )


# --- the data a request must not damage -------------------------------------------------


def data_tables() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if (issubclass(model, TenantModel) or model is Company)
        and model._meta.db_table not in NOT_DATA
    ]


def fingerprint_sql() -> str:
    parts = []
    for model in data_tables():
        table = connection.ops.quote_name(model._meta.db_table)
        where = "t.id = %(company)s" if model is Company else "t.company_id = %(company)s"
        parts.append(
            f"SELECT '{model._meta.db_table}', md5(coalesce(string_agg(t::text, '|' "
            f"ORDER BY t.id), '')) FROM {table} t WHERE {where}"
        )
    return " UNION ALL ".join(parts)


class Snapshot:
    """Per company: a fingerprint of each data table, and its rows to tell what changed."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.sql = fingerprint_sql()
        self.prints = self.fingerprints()
        self.rows = {model._meta.db_table: self.rows_of(model) for model in data_tables()}

    def fingerprints(self) -> dict[str, str]:
        with tenancy.tenant_context(self.company), connection.cursor() as cursor:
            cursor.execute(self.sql, {"company": self.company.pk})
            return dict(cursor.fetchall())

    def rows_of(self, model: type[models.Model]) -> dict[object, dict]:
        with tenancy.tenant_context(self.company):
            if model is Company:
                rows = Company.objects.filter(pk=self.company.pk).values()
            else:
                rows = model._base_manager.filter(company_id=self.company.pk).values()
            return {row["id"]: row for row in rows}

    def changes(self) -> dict[str, list[dict]]:
        """The changed or added rows of each changed table (a deleted row as {'id': ...})."""
        now = self.fingerprints()
        changed: dict[str, list[dict]] = {}
        for model in data_tables():
            table = model._meta.db_table
            if now.get(table) == self.prints.get(table):
                continue
            before, after = self.rows[table], self.rows_of(model)
            rows = [row for pk, row in after.items() if before.get(pk) != row]
            rows += [{"id": pk, "deleted": True} for pk in before.keys() - after.keys()]
            changed[table] = rows
        return changed


def hostile_stored(table: str, row: dict) -> str | None:
    """Why a stored row holds a hostile figure, or None."""
    for column, value in row.items():
        if isinstance(value, (Decimal, float)):
            number = Decimal(str(value)) if isinstance(value, float) else value
            if not number.is_finite():
                return f"{table}.{column} = {value}"
            if abs(number) >= Decimal("1e15"):
                return f"{table}.{column} = {value}"
            if number < 0 and (table, column) not in NEGATIVE_ALLOWED:
                return f"{table}.{column} = {value}"
        elif isinstance(value, int) and not isinstance(value, bool) and column != "id":
            if abs(value) >= 10**15 or (value < 0 and (table, column) not in NEGATIVE_ALLOWED):
                return f"{table}.{column} = {value}"
        elif isinstance(value, (datetime.date, datetime.datetime)):
            if not 1900 <= value.year <= 2200:
                return f"{table}.{column} = {value}"
        elif isinstance(value, str) and "\x00" in value:
            return f"{table}.{column} holds a NUL"
    return None


@contextmanager
def reads_recorded() -> Iterator[set[str]]:
    """The names a view reads from request.GET (or POST) while the block runs."""
    read: set[str] = set()
    originals = {name: getattr(QueryDict, name) for name in ("get", "getlist", "__getitem__")}

    def recorder(original: Callable) -> Callable:
        def record(self: QueryDict, key: str, *args: object) -> object:
            read.add(key)
            return original(self, key, *args)

        return record

    for name, original in originals.items():
        setattr(QueryDict, name, recorder(original))
    try:
        yield read
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)


# --- the walk ---------------------------------------------------------------------------


class Fuzzer:
    def __init__(self, alpha: Cast, beta: Cast) -> None:
        self.alpha, self.beta = alpha, beta
        self.results = Results()
        self.clients: dict[str, TenantClient] = {}
        self.sessions: dict[str, str] = {}
        users = {role: getattr(alpha, role) for role in ROLES} | {OUTSIDER: beta.admin}
        for role, user in users.items():
            client = TenantClient(enforce_csrf_checks=True)
            client.raise_request_exception = False
            client.force_login(user)
            client.get("/me/")  # every role's profile page has a form: it sets the CSRF cookie
            self.clients[role] = client
            self.sessions[role] = client.cookies["sessionid"].value
        self.snapshots = {OUTSIDER: Snapshot(beta.company)}
        self.alpha_snapshot = Snapshot(alpha.company)
        self.foreign = self.foreign_codes()
        self.seen_by: dict[str, set[str]] = defaultdict(set)  # path -> roles that opened it
        self.forms: dict[tuple, tuple[str, Form, str]] = {}  # key -> (first role, form, page)
        self.form_roles: dict[tuple, set[str]] = defaultdict(set)
        self.query_params: dict[str, set[str]] = defaultdict(set)

    def foreign_codes(self) -> dict[str, str]:
        """Each alpha code -> a code of the same kind of object in beta."""
        by_model: dict[str, str] = {}
        alpha_codes: dict[str, str] = {}
        self.sample_codes: list[str] = []
        for cast, target in ((self.beta, by_model), (self.alpha, alpha_codes)):
            with tenancy.tenant_context(cast.company):
                for model in data_tables():
                    for name in ("code", "uid"):
                        if not any(f.name == name for f in model._meta.fields):
                            continue
                        scope = {"pk" if model is Company else "company_id": cast.company.pk}
                        manager = model._base_manager.filter(**scope)
                        for code in manager.values_list(name, flat=True)[:200]:
                            if target is by_model:
                                by_model.setdefault(model._meta.label, str(code))
                            else:
                                if model._meta.label not in alpha_codes.values():
                                    self.sample_codes.append(str(code))
                                alpha_codes[str(code)] = model._meta.label
        return {code: by_model[label] for code, label in alpha_codes.items() if label in by_model}

    # One request, rolled back, checked.
    def request(
        self,
        role: str,
        method: str,
        path: str,
        data: dict | None = None,
        *,
        name: str,
        field: str,
        label: str,
        htmx: bool = False,
        may_change: bool = True,
        refused_if_alert: bool = True,
        echo: str | None = None,
    ) -> HttpResponse:
        client = self.clients[role]
        headers = {"X-CSRFToken": client.cookies["csrftoken"].value}
        if htmx:
            headers["HX-Request"] = "true"

        def fail(problem: str) -> None:
            self.results.failures.append(Failure(name, field, role, label, problem))

        self.results.requests += 1
        started = time.monotonic()
        try:
            return self._request(
                role,
                method,
                path,
                data,
                name=name,
                field=field,
                label=label,
                htmx=htmx,
                may_change=may_change,
                refused_if_alert=refused_if_alert,
                echo=echo,
                headers=headers,
                fail=fail,
            )
        finally:
            cost = self.results.cost[name]
            cost[0] += 1
            cost[1] += time.monotonic() - started

    def _request(
        self,
        role: str,
        method: str,
        path: str,
        data: dict | None,
        *,
        name: str,
        field: str,
        label: str,
        htmx: bool,
        may_change: bool,
        refused_if_alert: bool,
        echo: str | None,
        headers: dict[str, str],
        fail: Callable[[str], None],
    ) -> HttpResponse:
        client = self.clients[role]
        with transaction.atomic():
            if method == "get":
                response = client.get(path, data, headers=headers)
            else:
                response = client.post(path, data or {}, headers=headers)
            if response.status_code >= 500:
                error = getattr(response, "exc_info", None)
                detail = repr(error[1])[:300] if error else response.status_code
                fail(f"{response.status_code} {method.upper()} {path}: {detail}")
                transaction.set_rollback(True)
                self.restore_session(role)
                return response
            if method == "post":
                self.check_changes(response, role, fail, may_change, refused_if_alert)
            if echo is not None and self.echoed(response, echo):
                fail(f"the 10 000 characters are echoed whole by {method.upper()} {path}")
            transaction.set_rollback(True)
        self.restore_session(role)
        return response

    def check_changes(
        self,
        response: HttpResponse,
        role: str,
        fail: Callable[[str], None],
        may_change: bool,
        refused_if_alert: bool,
    ) -> None:
        body = response.content.decode(errors="replace") if response.status_code == 200 else ""
        refused = response.status_code >= 400 or (refused_if_alert and 'role="alert"' in body)
        # The outsider may change their own company (a settings page has no code), never alpha.
        snapshots = [(self.alpha_snapshot, role != OUTSIDER and may_change)]
        if role == OUTSIDER:
            snapshots.append((self.snapshots[OUTSIDER], True))
        for snapshot, allowed in snapshots:
            changes = snapshot.changes()
            if not changes:
                continue
            where = f"{snapshot.company.name}: {sorted(changes)}"
            if not allowed:
                fail(f"changed data it may not reach ({response.status_code}) {where}")
            elif refused:
                fail(f"refused ({response.status_code}) but changed {where}")
            for table, rows in changes.items():
                for row in rows:
                    if reason := hostile_stored(table, row):
                        fail(f"stored a hostile figure: {reason}")

    @staticmethod
    def echoed(response: HttpResponse, value: str) -> bool:
        body = response.content.decode(errors="replace")
        # Inside a form control or an attribute the value is not shown as a page its size.
        body = re.sub(r"<textarea\b[^>]*>.*?</textarea>", "", body, flags=re.S)
        body = re.sub(r"<[^>]*>", "", body)
        return value in body

    def restore_session(self, role: str) -> None:
        """A request that cycled the session (a password change) was rolled back with it."""
        client = self.clients[role]
        if client.cookies["sessionid"].value != self.sessions[role]:
            client.cookies["sessionid"] = self.sessions[role]

    # Discovery.
    def start_paths(self) -> list[str]:
        """Every pattern filled with each code of the cast that fits (links find the rest)."""
        today = datetime.date.today()
        values = {
            "year": [str(today.year)],
            "month": [str(today.month)],
            "day": [today.isoformat(), (today - datetime.timedelta(days=1)).isoformat()],
            "kpi": ["calls"],
            "team": [str(self.alpha.team.code)],
        }
        codes = self.sample_codes
        paths = []
        for route, name in all_patterns():
            if not name or route.startswith(SKIP_PREFIXES) or "(" in route:
                continue
            route = route.replace("\\", "").lstrip("^").rstrip("$")
            params = re.findall(r"<(?:\w+:)?(\w+)>", route)
            if not params:
                paths.append(route)
                continue
            if len(params) > 3 or any(p not in values and p not in ("code", "uid") for p in params):
                continue
            candidates = [{}]
            for param in params:
                options = values.get(param, codes)
                candidates = [{**c, param: v} for c in candidates for v in options]
            for candidate in candidates:
                paths.append(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: candidate[m.group(1)], route))
        return paths

    def crawl(self) -> None:
        starts = self.start_paths()
        for role in (*ROLES, OUTSIDER):
            per_name: dict[str, int] = defaultdict(int)
            queue, seen, pending = ["/"], set(), list(starts)
            while queue or pending:
                if not queue:
                    # What the links did not reach: the patterns, filled with the cast's codes.
                    queue, pending = [s for s in pending if not per_name[url_name(s) or ""]], []
                    continue
                path = queue.pop(0)
                if path in seen or not wanted(path):
                    continue
                seen.add(path)
                name = url_name(path)
                if name is None or per_name[name] >= PAGES_PER_NAME:
                    continue
                with reads_recorded() as read:
                    response = self.clients[role].get(path)
                self.query_params[name] |= read
                self.results.requests += 1
                if response.status_code >= 500:
                    self.results.failures.append(
                        Failure(name, "-", role, "GET", f"{response.status_code} GET {path}")
                    )
                if response.status_code in (301, 302):
                    self.results.pages[name].add(role)  # reached: it sends the role on
                    queue.insert(0, response.headers["Location"])
                if response.status_code != 200:
                    continue
                per_name[name] += 1
                self.results.pages[name].add(role)
                if "text/html" not in response.headers.get("Content-Type", ""):
                    continue
                self.seen_by[path].add(role)
                page = parse(response.content.decode())
                for link in page.links:
                    absolute = link if link.startswith("/") else urlsplit(path).path + link
                    if wanted(absolute):
                        queue.append(absolute)
                        query_name = url_name(absolute)
                        if query_name:
                            self.query_params[query_name] |= {
                                k for k, _v in parse_qsl(urlsplit(absolute).query)
                            }
                for form in page.forms:
                    action = form.action or path
                    if not action.startswith("/"):
                        action = urlsplit(path).path + action
                    if not wanted(action) and url_name(action) != "set_language":
                        continue
                    form.action = action
                    action_name = url_name(action) or "?"
                    if form.method == "get":
                        self.query_params[action_name] |= {f[0] for f in form.fields}
                        continue
                    self.results.actions.add(action_name)
                    key = (urlsplit(action).path, tuple(sorted({f[0] for f in form.fields})))
                    for button in form.buttons or [None]:
                        button_key = (*key, button)
                        if role == OUTSIDER and button_key not in self.forms:
                            continue  # another company's own forms are its own business
                        if button_key not in self.forms:
                            self.forms[button_key] = (role, form, path)
                        self.form_roles[button_key].add(role)

    # Fuzzing.
    def mutations(self, form: Form, role: str, first: bool) -> Iterator[tuple[str, str, dict]]:
        typed = ("text", "textarea", "number", "date", "email", "password", "url", "time")
        base: dict[str, object] = {}
        for name, value, _kind in form.fields:
            base.setdefault(name, [])
            base[name].append(value)  # type: ignore[union-attr]
        for name, value, kind in form.fields:
            if name == "csrfmiddlewaretoken":
                continue
            if kind == "file":
                for label, content in (
                    ("empty file", b""),
                    ("NUL file", b"\x00\xff\xfe" * 1000),
                    ("markup file", b"id;title\n1;<script>x</script>\n" + b"1e30;" * 100),
                ):
                    upload = SimpleUploadedFile("x\x00<b>.csv", content, "text/csv")
                    yield name, label, {**base, name: upload}
                continue
            labels = HOSTILE if kind in typed else FOR_CHOICES
            for label in labels if first else SECOND_LOOK:
                yield name, label, {**base, name: HOSTILE[label]}
            if value in self.foreign:
                yield name, "foreign code", {**base, name: self.foreign[value]}
            if first:
                yield name, "omitted", {k: v for k, v in base.items() if k != name}

    def fuzz_forms(self) -> None:
        for key, (first_role, form, _page) in self.forms.items():
            button = key[2]
            name = url_name(form.action) or form.action
            extra = dict([button]) if button else {}
            for role in (*ROLES, OUTSIDER):
                sees = role in self.form_roles[key]
                if sees:
                    for field_name, label, data in self.mutations(form, role, role == first_role):
                        file_data = {
                            k: v for k, v in data.items() if isinstance(v, SimpleUploadedFile)
                        }
                        for upload in file_data.values():
                            upload.seek(0)
                        self.request(
                            role, "post", form.action, {**data, **extra}, name=name,
                            field=field_name, label=label, htmx=form.htmx,
                            echo=HUGE_TEXT if label == "10 000 characters" else None,
                        )  # fmt: skip
                else:
                    # As rendered for the role that sees it: the most dangerous request.
                    data = {}
                    for field_name, value, _kind in form.fields:
                        data.setdefault(field_name, []).append(value)
                    self.request(
                        role, "post", form.action, {**data, **extra}, name=name, field="*",
                        label="as rendered", htmx=form.htmx, may_change=False,
                    )  # fmt: skip

    def fuzz_queries(self) -> None:
        done: set[tuple[str, str]] = set()
        for path, roles in list(self.seen_by.items()):
            name = url_name(path)
            if not name:
                continue
            role = next(r for r in (*ROLES, OUTSIDER) if r in roles)
            params = self.query_params[name]
            base = dict(parse_qsl(urlsplit(path).query))
            for param in sorted(params):
                if (name, param) in done:
                    continue
                done.add((name, param))
                values = dict(HOSTILE_QUERY)
                values["foreign code"] = str(self.beta.team.code)
                if param in ("manager", "user"):
                    values["foreign code"] = str(self.beta.manager.code)
                for label, value in values.items():
                    self.request(
                        role, "get", urlsplit(path).path, {**base, param: value}, name=name,
                        field=f"?{param}", label=label,
                        echo=HUGE_TEXT if label == "10 000 characters" else None,
                    )  # fmt: skip

    def run(self) -> Results:
        started = time.monotonic()
        for stage in (self.crawl, self.fuzz_forms, self.fuzz_queries):
            count, begun = self.results.requests, time.monotonic()
            stage()
            self.results.stages[stage.__name__] = (
                self.results.requests - count,
                time.monotonic() - begun,
            )
        self.results.seconds = time.monotonic() - started
        return self.results


def add_pages_with_forms(cast: Cast) -> None:
    """What the light cast lacks for some forms to show: a deal in retargeting (its return
    button), an uploaded file waiting for its column mapping, a failed import to resume."""
    with tenancy.tenant_context(cast.company):
        ImportJob.objects.filter(company=cast.company).update(
            status=ImportJob.Status.FAILED, message="Строка 2: нет этапа"
        )
        deal = Deal.objects.filter(company=cast.company, status=Deal.Status.OPEN).first()
        deal.status = Deal.Status.RETARGETING
        deal.closed_at = deal.retargeting_at = timezone.now()
        deal.retargeting_reason = "3 недозвона подряд"
        deal.save()
        upload = SimpleUploadedFile(
            "deals.csv", "Номер;Название;Этап;Сумма\n7;Поставка;Новая;1000\n".encode()
        )
        import_job_create(company=cast.company, created_by=cast.head, kind="deals", file=upload)


@pytest.fixture(scope="module")
def results(django_db_setup: None, django_db_blocker) -> Results:  # type: ignore[no-untyped-def]
    logging.disable(logging.CRITICAL)  # the 500s are collected, not logged
    with django_db_blocker.unblock(), transaction.atomic():
        alpha = make_cast("alpha", "Альфа Продажи")
        beta = make_cast("beta", "Бета Секретная")
        for cast in (alpha, beta):
            add_pages_with_forms(cast)
        outcome = Fuzzer(alpha, beta).run()
        transaction.set_rollback(True)
    logging.disable(logging.NOTSET)
    if report := os.environ.get("FUZZ_REPORT"):
        with open(report, "w") as out:
            print(outcome.stages, file=out)
            for name, (count, seconds) in sorted(outcome.cost.items(), key=lambda c: -c[1][1]):
                print(f"{name}: {count} requests, {seconds:.1f} s", file=out)
            for failure in outcome.failures:
                print(str(failure).replace("\x00", "\\x00"), file=out)
    print(
        f"\nforms fuzz: requests={outcome.requests} seconds={outcome.seconds:.1f} "
        f"pages={len(outcome.pages)} form actions={len(outcome.actions)}"
    )
    return outcome


def html_names() -> list[str]:
    """The pages and forms of logged-in users (the public ones belong to no role)."""
    public = set(PUBLIC) - {"set_language"}
    return sorted(
        name
        for route, name in all_patterns()
        if name
        and not route.startswith(SKIP_PREFIXES)
        and name not in public
        and name not in UNLINKED
    )


def test_it_reaches_every_page_and_form(results: Results) -> None:
    reached = set(results.pages) | results.actions
    unreached = [n for n in html_names() if n not in reached]
    assert not unreached, f"not reached by any role, add a link or a code: {unreached}"
    assert len(results.actions) >= 25


def test_every_failure_is_named_by_a_page(results: Results) -> None:
    names = set(html_names())
    strays = [str(f) for f in results.failures if f.name not in names]
    assert not strays, "\n".join(strays[:40])


@pytest.mark.parametrize("name", html_names())
def test_no_hostile_value_breaks_or_damages(results: Results, name: str) -> None:
    failures = [f for f in results.failures if f.name == name]
    known = [f for f in failures if (name, f.field) in KNOWN]
    unknown = [f for f in failures if (name, f.field) not in KNOWN]
    assert not unknown, "\n".join(str(f) for f in unknown[:40]) + f"\n({len(unknown)} in all)"
    if known:
        reasons = sorted({KNOWN[(name, f.field)] for f in known})
        pytest.xfail("; ".join(reasons))
