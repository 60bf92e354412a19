"""The fixed cast (two companies: alpha and beta) and the real services the suite runs on.

The suite runs on PostgreSQL as the app role, the way production does, so row-level
security is in force in every test; the test database is created and migrated as the
tables' owner.
"""

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone, translation

from accounts import crypto, services, tenancy
from accounts.models import Company, Team, User
from clients import services as client_services
from clients.models import ClientAlert
from crm_sync import services as crm_services
from crm_sync.models import Call, CRMStageLink, CRMUserLink, ImportJob, PipelineStage
from crm_sync.models import Client as CrmClient
from dashboard.models import DashboardVisit
from kpi import services as kpi_services
from kpi.models import KPI
from payments import services as payment_services
from payments.models import ODataConnection
from payments.services import BalanceData, PaymentData
from quality import services as quality_services
from quality.models import CallType
from reports import services as report_services
from reports.models import Reminder
from rollups import services as rollup_services
from rollups.changes import ReportChanged
from telegram_bot.models import AlertPreferences, BindingCode, Conversation
from telegram_bot.models import Update as TelegramUpdate
from tests import snapshots
from tests.browser import browser, page, phone  # noqa: F401 (Chromium, one for the suite)
from tests.factories import PASSWORD, CompanyFactory, TeamFactory, UserFactory
from webhooks.models import Delivery, Subscription

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(
            "The suite runs on PostgreSQL with row-level security: start it with scripts/test",
            returncode=2,
        )
    # Every hot read compiled once (salesdesk.statements) is compared with its plain SQL.
    settings.STATEMENTS_CHECK = True


def plan_nodes(node: dict) -> Iterator[dict]:
    """Every node of an EXPLAIN (FORMAT JSON) plan, the node itself first."""
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@contextmanager
def statements_with(text: str) -> Iterator[list[tuple[str, object]]]:
    """The statements run in the block whose SQL contains `text`, with their parameters."""
    found: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if text in sql:
            found.append((sql, params))
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(capture):
        yield found


def generic_plan(sql: str, params: dict) -> list:
    """EXPLAIN (ANALYZE, FORMAT JSON) of a statement with %(name)s parameters as a worker's
    connection runs it once prepared: its generic plan, in the caller's transaction (whose
    settings it plans under). What it writes is rolled back with a savepoint."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))

    def type_of(value: object) -> str:
        match value:
            case bool():
                return "boolean"
            case int():
                return "bigint"
            case list():
                return "bigint[]"
            case datetime.datetime():
                return "timestamptz"
            case datetime.date():
                return "date"
        return "text"

    for number, name in enumerate(names, 1):
        sql = sql.replace(f"%({name})s", f"${number}")
    types = ", ".join(type_of(params[name]) for name in names)
    connection = connections["default"]
    with connection.cursor() as django_cursor:
        django_cursor.execute("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)")
    # PREPARE's own $n: sent as text (the simple protocol), not as the driver's parameters.
    with psycopg.ClientCursor(connection.connection) as cursor:
        cursor.execute("SAVEPOINT generic_plan")
        cursor.execute(f"PREPARE generic_plan ({types}) AS {sql}")
        placeholders = ", ".join(["%s"] * len(names))
        cursor.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic_plan ({placeholders})",
            [params[name] for name in names],
        )
        plan = cursor.fetchone()[0]
        cursor.execute("DEALLOCATE generic_plan")
        cursor.execute("ROLLBACK TO SAVEPOINT generic_plan")
    return plan


@contextmanager
def as_owner() -> Iterator[None]:
    """Connect as the tables' owner (migrations, test database set-up) for the block."""
    owner = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])
    connection = connections["default"]
    saved = connection.settings_dict["USER"], connection.settings_dict["PASSWORD"]
    connection.close()
    connection.settings_dict["USER"] = owner["USER"]
    connection.settings_dict["PASSWORD"] = owner["PASSWORD"]
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"], connection.settings_dict["PASSWORD"] = saved


@pytest.fixture(scope="session")
def django_db_setup(  # type: ignore[no-untyped-def]
    django_test_environment: None, django_db_modify_db_settings: None, django_db_blocker
) -> Iterator[None]:
    # django_db_modify_db_settings: under pytest-xdist, each worker's database is named
    # after it (test_salesdesk_gw0, ...); every later use of the name reads it from the
    # connection's settings.
    with django_db_blocker.unblock(), as_owner():
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
        with connections["default"].cursor() as cursor:
            # Test-only: transactional tests empty the tables with TRUNCATE between tests.
            cursor.execute(
                f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {settings.DATABASE_APP_ROLE}"
            )
    yield
    with django_db_blocker.unblock():
        connections.close_all()
        _end_other_sessions(connections["default"].settings_dict["NAME"])
        with as_owner():
            teardown_databases(old_config, verbosity=0)


def _end_other_sessions(database: str) -> None:
    """Ends what is still connected to the test database before it is dropped, and says what.

    `close_all()` closes this thread's connections only; one left open by another thread or a
    process that outlived its test made the final DROP DATABASE fail ("being accessed by
    other users"), which failed the whole run after every test had passed."""
    import warnings

    import psycopg

    admin = os.environ.get("DATABASE_ADMIN_URL")
    if not admin:
        return
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid), usename, application_name, state, left(query, 80)"
            " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
        deadline = time.monotonic() + 10
        while rows and time.monotonic() < deadline:
            left = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]
            ).fetchone()
            if not left or not left[0]:
                break
            time.sleep(0.1)
    if rows:
        warnings.warn(f"sessions left on the test database at the end: {rows}", stacklevel=1)


class TenantClient(Client):
    """The test client; logging in happens inside the user's company, as in a real login."""

    def force_login(self, user: User, backend: str | None = None) -> None:
        if user.company_id is None:
            context = tenancy.operator_context()
        else:
            context = tenancy.tenant_context(user.company_id)
        with context:
            super().force_login(user, backend)


@pytest.fixture(autouse=True)
def _russian_first() -> None:
    """Each test starts in the default language: the test client's requests run in this
    thread, and LocaleMiddleware leaves the last request's language active after it."""
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def client() -> TenantClient:
    return TenantClient()


@dataclass
class Cast:
    """One company's people, and one row in every tenant-owned table."""

    company: Company
    admin: User
    head: User
    managers: list[User]
    quality: User
    team: Team
    api_key: str
    secrets: list[str] = field(default_factory=list)

    @property
    def manager(self) -> User:
        return self.managers[0]


def _add_deals_and_calls(company: Company, manager: User, client_name: str, title: str) -> None:
    """A client with a deal moved one stage on, a won deal, a lead, two calls, a CRM link, an
    import."""
    stages = list(PipelineStage.objects.filter(company=company))
    now = timezone.now()
    client = crm_services.client_resolve(
        company=company, name=client_name, phone="+7 900 000-00-01"
    )
    data = crm_services.DealData(
        external_id="1", stage=stages[0], created_at=now - datetime.timedelta(days=3),
        title=title, manager=manager, client=client, channel="Сайт", amount=Decimal(50000),
    )  # fmt: skip
    crm_services.deal_upsert(company=company, source="file", data=data)
    data.stage, data.moved_at = stages[1], now - datetime.timedelta(days=1)
    crm_services.deal_upsert(company=company, source="file", data=data)
    won = next(stage for stage in stages if stage.kind == PipelineStage.Kind.WON)
    crm_services.deal_upsert(company=company, source="file", data=crm_services.DealData(
        external_id="2", stage=won, created_at=now - datetime.timedelta(days=9),
        title=f"{title} 2", manager=manager, client=client, amount=Decimal(70000),
    ))  # fmt: skip
    crm_services.lead_upsert(company=company, source="bitrix24", data=crm_services.LeadData(
        external_id="1", created_at=now - datetime.timedelta(days=3), title=f"{title}: лид",
        manager=manager, status="converted",
    ))  # fmt: skip
    for number, answered in (("c1", True), ("c2", False)):
        crm_services.call_upsert(company=company, source="telephony", data=crm_services.CallData(
            external_id=number, direction="out", started_at=now - datetime.timedelta(hours=2),
            duration=60 if answered else 0, answered=answered, manager=manager, client=client,
        ))  # fmt: skip
    connection = crm_services.connection_save(
        company=company, vendor="amocrm", base_url="https://example.amocrm.ru", token="t0ken"
    )
    CRMStageLink(
        company=company, connection=connection, pipeline_id="1", status_id="142", stage=won
    ).save()
    CRMUserLink(company=company, connection=connection, crm_user_id="1", user=manager).save()
    ImportJob(company=company, kind="deals", file_name="deals.csv", content=b"id\n").save()
    _add_client_analysis(company, manager, client)


def _add_client_analysis(company: Company, manager: User, client: CrmClient) -> None:
    """Settings, an acquisition cost, this month's ABC/XYZ classes and a rhythm alert."""
    today = timezone.localdate()
    client_services.acquisition_cost_set(company=company, month=today, amount=Decimal(90000))
    client_services.classification_run(company=company, month=today)
    ClientAlert(
        company=company, client=client, manager=manager,
        last_order_on=today - datetime.timedelta(days=40), median_gap_days=Decimal(14),
        due_since=today - datetime.timedelta(days=18),
    ).save()  # fmt: skip


def _add_call_score(company: Company, controller: User, comment: str) -> None:
    """The answered call scored against the first checklist, and the soft-salary rule."""
    call = Call.objects.get(company=company, external_id="c1")
    call_type = CallType.objects.filter(company=company).first()
    first_item = call_type.items.first()
    quality_services.call_score_save(
        company=company, call=call, call_type=call_type, controller=controller,
        done_items={first_item.pk}, comment=comment,
    )  # fmt: skip
    quality_services.settings_save(company=company, soft_salary_share=Decimal(30), days_back=3)


def _add_telegram(company: Company, manager: User) -> None:
    """A processed update, a spent binding code, a chat's report under way, preferences."""
    moment = timezone.now()
    TelegramUpdate(
        company=company, update_id=1, payload={"update_id": 1}, processed_at=moment
    ).save()
    BindingCode(company=company, user=manager, code_hash="0" * 64, expires_at=moment).save()
    Conversation(
        company=company, chat_id="9", user=manager, day=moment.date(), step="calls",
        values={"calls": "3"},
    ).save()  # fmt: skip
    AlertPreferences(company=company, user=manager, client_calls=False).save()


def _add_payments(company: Company, admin: User, client: CrmClient, payer: str) -> None:
    """A payment and a balance from 1C, a payer linked by the admin, a 1C connection."""
    today = timezone.localdate()
    data = PaymentData(external_id="cast-1", paid_on=today, amount=Decimal(1000), payer_name=payer)
    payment_services.payment_upsert(company=company, source="file", data=data)
    payment_services.balance_upsert(company=company, source="file", data=BalanceData(
        as_of=today, payer_name=payer, amount=Decimal(500)))  # fmt: skip
    payment_services.payer_link_set(company=company, actor=admin, inn="", name=payer, client=client)
    ODataConnection.objects.create(
        company=company, base_url="https://1c.example.ru/buh", username="odata",
        password=crypto.encrypt("1c-pa55"), pull_from=today,
    )  # fmt: skip


def _add_telephony(company: Company, admin: User) -> None:
    """A PBX connected (its company token with it) and one event it sent, unmerged.
    Novofon: tests/telephony connect the other four themselves."""
    from telephony import services as telephony_services
    from telephony.models import PBXConnection, PBXEvent

    connection, _key = telephony_services.connection_create(
        company=company, vendor=PBXConnection.Vendor.NOVOFON, api_key="cast-key",
        api_secret="cast-secret", actor=admin,
    )  # fmt: skip
    PBXEvent.objects.create(
        company=company, connection=connection, call_id="cast-1", event_id="cast-1",
        occurred_at=timezone.now(), facts={},
    )  # fmt: skip


def make_cast(prefix: str, company_name: str) -> Cast:
    company = CompanyFactory(name=company_name, login_prefix=prefix)
    admin = UserFactory(company=company, username=f"{prefix}.admin", role=User.Role.ADMIN)
    head = UserFactory(company=company, username=f"{prefix}.head", role=User.Role.HEAD)
    team = TeamFactory(company=company, name=f"{company_name}: команда", head=head)
    managers = [
        UserFactory(company=company, username=f"{prefix}.manager{i}", team=team) for i in (1, 2, 3)
    ]
    quality = UserFactory(company=company, username=f"{prefix}.quality", role=User.Role.QUALITY)
    with tenancy.tenant_context(company):
        _token, api_key = services.api_token_create(user=admin, name="CI")
        services.company_token_create(
            company=company, name="BI", scopes=["exports:read"], actor=admin
        )
        # Written directly: a subscription's service would check the address in DNS and send.
        subscription = Subscription.objects.create(
            company=company, url="https://hooks.example.com/salesdesk", events=["month.closed"],
            secret="s" * 64, last_sequence=1, active=False,
        )  # fmt: skip
        Delivery.objects.create(
            company=company, subscription=subscription, event_id=uuid.uuid4(),
            event="month.closed", sequence=1, payload={"month": "2026-01"},
            state=Delivery.State.DELIVERED, attempts=1, last_status=200,
        )  # fmt: skip
        calls = KPI.objects.get(company=company, code="calls")
        today = timezone.localdate()
        kpi_services.plan_set(
            company=company, kpi=calls, start=today, value=Decimal(1200), manager=managers[0]
        )
        kpi_services.absence_create(
            company=company,
            manager=managers[2],
            kind="vacation",
            start=today + datetime.timedelta(days=30),
            end=today + datetime.timedelta(days=36),
        )
        # A day of the company's own, far from any test's months (the country's are not rows).
        kpi_services.calendar_day_set(
            company=company, date=datetime.date(2035, 12, 31), is_working=False, note="Корпоратив"
        )
        yesterday = today - datetime.timedelta(days=1)
        report_services.imported_figure_set(
            company=company, manager=managers[0], day=yesterday, kpi=calls,
            source="telephony", value=Decimal(55),
        )  # fmt: skip
        figures = {"calls": "57", "long_calls": "20", "talk_time": "1:10:00", "leads": "3"}
        submission = report_services.report_submit(
            company=company, manager=managers[0], day=yesterday, values=figures,
            actor=managers[0],
        )  # fmt: skip
        report_services.report_submit(
            company=company, manager=managers[0], day=yesterday,
            values={**figures, "leads": "4"}, actor=head, version=submission.report.version,
            reason="Лид из почты",
        )  # fmt: skip
        report_services.draft_save(
            company=company, manager=managers[1], day=today, data={"calls": "12"}
        )
        long_ago = (today.replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
        report_services.month_close(company=company, month=long_ago, actor=head)
        Reminder(company=company, user=managers[2], date=yesterday, kind="missing").save()
        client_name, deal_title = f"{company_name}: клиент", f"{company_name}: сделка"
        _add_deals_and_calls(company, managers[0], client_name, deal_title)
        payer_name = f"{company_name}: плательщик"
        _add_payments(company, admin, CrmClient.objects.get(name=client_name), payer_name)
        _add_telephony(company, admin)
        quality_comment = f"{company_name}: разбор звонка"
        _add_call_score(company, quality, quality_comment)
        moment = timezone.now()
        DashboardVisit(
            company=company, user=admin, baseline_at=moment, baseline_month=today.replace(day=1),
            last_seen_at=moment, digest=DashboardVisit.Digest.OFF,
        ).save()  # fmt: skip
        _add_telegram(company, managers[2])
    # Totals, working days and a reconciliation of its own, then one bucket stale again.
    rollup_services.rollup_run(company_id=company.pk)
    rollup_services.totals_reconcile(company_id=company.pk)
    with tenancy.tenant_context(company):
        rollup_services.totals_mark(
            company=company, change=ReportChanged(manager=managers[0], day=yesterday)
        )
    return Cast(
        company=company,
        admin=admin,
        head=head,
        managers=managers,
        quality=quality,
        team=team,
        api_key=api_key,
        secrets=[
            company_name,
            team.name,
            client_name,
            deal_title,
            payer_name,
            quality_comment,
            *(u.username for u in [admin, head, *managers, quality]),
        ],
    )


@dataclass(frozen=True)
class _CastSnapshot:
    """A cast kept as its rows and the ids of its people."""

    rows: snapshots.Snapshot
    company_id: int
    admin_id: int
    head_id: int
    manager_ids: list[int]
    quality_id: int
    team_id: int
    api_key: str
    secrets: list[str]


_CASTS = {"alpha": "Альфа Продажи", "beta": "Бета Секретная"}
_cast_snapshots: dict[str, _CastSnapshot] = {}


def _snapshot(prefix: str) -> _CastSnapshot:
    cast, rows = snapshots.capture(lambda: make_cast(prefix, _CASTS[prefix]))
    return _CastSnapshot(
        rows=rows,
        company_id=cast.company.pk,
        admin_id=cast.admin.pk,
        head_id=cast.head.pk,
        manager_ids=[manager.pk for manager in cast.managers],
        quality_id=cast.quality.pk,
        team_id=cast.team.pk,
        api_key=cast.api_key,
        secrets=cast.secrets,
    )


def _restore(snapshot: _CastSnapshot) -> Cast:
    """Puts the cast's rows back and loads it from them, the related objects shared as the
    factories share them (a user's company is the cast's company object)."""
    snapshots.restore(snapshot.rows)
    with tenancy.tenant_context(snapshot.company_id):
        company = Company.objects.get(pk=snapshot.company_id)
        users = User.objects.select_related("sales_role").in_bulk(
            [snapshot.admin_id, snapshot.head_id, *snapshot.manager_ids, snapshot.quality_id]
        )
        team = Team.objects.get(pk=snapshot.team_id)
    for user in users.values():
        user.company = company
    team.company, team.head = company, users[snapshot.head_id]
    for manager_id in snapshot.manager_ids:
        users[manager_id].team = team
    return Cast(
        company=company,
        admin=users[snapshot.admin_id],
        head=users[snapshot.head_id],
        managers=[users[manager_id] for manager_id in snapshot.manager_ids],
        quality=users[snapshot.quality_id],
        team=team,
        api_key=snapshot.api_key,
        secrets=list(snapshot.secrets),
    )


def cast_for(prefix: str) -> Cast:
    """The `alpha` or `beta` cast: `make_cast`'s rows, without building them for each test.

    Inside a test's transaction (the `db` fixture) the rows of a snapshot are inserted, which
    takes a few milliseconds where building takes about half a second. A transactional test
    commits, so its side effects on commit (the queued recomputation) must be real: it gets
    a cast built as before.
    """
    if not connections["default"].in_atomic_block:
        return make_cast(prefix, _CASTS[prefix])
    snapshot = _cast_snapshots.get(prefix)
    if snapshot is None or not snapshot.rows.is_current():
        # Both, alpha first: the ids keep the order in which the casts were always made.
        for name in _CASTS:
            _cast_snapshots[name] = _snapshot(name)
        snapshot = _cast_snapshots[prefix]
    return _restore(snapshot)


@pytest.fixture
def alpha(db: None) -> Cast:
    return cast_for("alpha")


@pytest.fixture
def beta(db: None) -> Cast:
    return cast_for("beta")


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded profile's SQLite database, migrated once for the session (a migration
    from scratch takes seconds in a subprocess)."""
    from tests.test_settings import run_manage

    path = tmp_path_factory.mktemp("embedded") / "migrated.sqlite3"
    migrated = run_manage("migrate", "-v0", DATABASE_URL=f"sqlite:///{path}", DEBUG="1")
    assert migrated.returncode == 0, migrated.stderr
    return path


@pytest.fixture
def embedded_env(tmp_path: Path, _migrated_sqlite: Path) -> dict[str, str]:
    """The environment of the embedded profile (SQLite, Celery eager) on this test's own
    copy of a migrated database."""
    path = tmp_path / "embedded.sqlite3"
    shutil.copyfile(_migrated_sqlite, path)
    return {"DATABASE_URL": f"sqlite:///{path}", "DEBUG": "1"}


@pytest.fixture
def password() -> str:
    return PASSWORD


@dataclass
class Worker:
    process: subprocess.Popen
    mail_dir: Path

    def sent_mail(self, count: int = 1, timeout: float = 20) -> list[EmailMessage]:
        """The e-mails the worker has written, waiting up to `timeout` for `count` of them."""
        separator = b"\n" + b"-" * 79
        deadline = time.monotonic() + timeout
        while True:
            # The file backend ends each message with a line of dashes: until then the
            # worker is still writing it.
            written = [f.read_bytes() for f in sorted(self.mail_dir.glob("*.log"))]
            complete = [data for data in written if data.rstrip().endswith(separator.strip())]
            if len(complete) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return [message_from_bytes(data.split(separator)[0], policy=default) for data in complete]


class FakeTelegram:
    """A Bot API stand-in on loopback, answering as https://core.telegram.org/bots/api does.

    Every call is kept in `calls` ({"path", "method", "token", **parameters}); sendMessage
    calls also in `messages`. getMe answers the bot of the token (`invalid` tokens get 401),
    setWebhook records the URL, secret and allowed updates in `webhooks[token]`, sendMessage
    and editMessageText answer a Message, answerCallbackQuery and deleteWebhook True.
    `refuse[chat_id] = n` makes it answer 502 to the next n calls for that chat.
    """

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.messages: list[dict] = []
        self.refuse: dict[str, int] = {}
        self.refused: list[dict] = []
        self.invalid: set[str] = set()
        self.webhooks: dict[str, dict] = {}
        self._ids = iter(range(1000, 10**9))
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                token, _slash, method = self.path.removeprefix("/bot").rpartition("/")
                call = {"path": self.path, "method": method, "token": token}
                call |= fake._parameters(
                    self.headers.get("Content-Type", ""), self.rfile.read(length)
                )
                status, body = fake._answer(call)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _parameters(content_type: str, data: bytes) -> dict:
        """JSON, or a form whose complex values are JSON (as python-telegram-bot sends them)."""
        if not data:
            return {}
        if content_type.startswith("application/json"):
            return json.loads(data)
        from urllib.parse import parse_qsl

        parameters = {}
        for key, value in parse_qsl(data.decode(), keep_blank_values=True):
            if key in ("reply_markup", "allowed_updates"):
                value = json.loads(value)
            parameters[key] = value
        return parameters

    def _answer(self, call: dict) -> tuple[int, dict]:
        chat = str(call.get("chat_id", ""))
        if call["token"] in self.invalid:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if self.refuse.get(chat, 0) > 0:
            self.refuse[chat] -= 1
            self.refused.append(call)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        self.calls.append(call)
        bot_id = int(call["token"].split(":")[0]) if call["token"][:1].isdigit() else 1
        bot = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Salesdesk",
            "username": f"sd{bot_id}_bot",
        }
        method = call["method"]
        if method == "getMe":
            return 200, {"ok": True, "result": bot}
        if method == "setWebhook":
            self.webhooks[call["token"]] = call
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if method in ("sendMessage", "editMessageText"):
            if method == "sendMessage":
                call["message_id"] = next(self._ids)
                self.messages.append(call)
            message = {
                "message_id": int(call["message_id"]),
                "date": int(time.time()),
                "chat": {"id": int(chat), "type": "private"},
                "from": bot,
                "text": call.get("text", ""),
            }
            if call.get("reply_markup"):
                message["reply_markup"] = call["reply_markup"]
            return 200, {"ok": True, "result": message}
        return 200, {"ok": True, "result": True}

    def sent_to(self, chat_id: str) -> list[dict]:
        return [m for m in self.messages if str(m.get("chat_id")) == str(chat_id)]

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


@pytest.fixture(scope="session")
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    yield fake
    fake.server.shutdown()


_worker_started = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Let the worker finish what a test queued before the test's tables are flushed.

    Once the session's worker runs, every transactional test that commits a report
    queues a rollup for it. Flushing the tables while that task holds some of them
    deadlocks the flush, so the teardown (which runs the flush) waits until the queue
    and the worker's unacknowledged messages are empty.
    """
    if not _worker_started:
        return
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not broker.llen("celery") and not broker.llen("crm") and not broker.hlen("unacked"):
            return
        time.sleep(0.05)


def worker_process(*, name: str, queues: str, env: dict[str, str]) -> subprocess.Popen:
    """A real Celery worker process (one task at a time) named `name`@host on `queues`, with
    this environment, once it answers a ping."""
    from salesdesk.celery import app

    node = f"{name}@{socket.gethostname()}"  # what the worker's own "%h" names
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "salesdesk", "worker", "--pool=solo",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "-n", node, "-Q", queues],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[node], timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the Celery worker did not start")
    return process


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram
) -> Iterator[Worker]:
    """A real Celery worker process consuming from the test Redis, on the test database."""
    from salesdesk.celery import app

    mail_dir = tmp_path_factory.mktemp("mail")
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        # Django's file backend, refusing the addresses a test marks (tests/mail.py).
        "EMAIL_BACKEND": "tests.mail.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "TELEGRAM_API_URL": telegram.url,
        "REMINDER_RETRY_SECONDS": "0.2",
        # The webhook tests' receiver listens on loopback (tests/webhooks).
        "WEBHOOKS_ALLOW_PRIVATE": "1",
    }
    app.control.purge()
    # The default queue and the CRM sync's (settings).
    process = worker_process(name="test", queues="celery,crm", env=env)
    global _worker_started
    _worker_started = True
    yield Worker(process, mail_dir)
    _worker_started = False
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def clear_mail(celery_worker: Worker, telegram: FakeTelegram) -> Worker:
    for file in celery_worker.mail_dir.glob("*"):
        file.unlink()
    telegram.messages.clear()
    telegram.calls.clear()
    telegram.refuse.clear()
    telegram.refused.clear()
    return celery_worker
