"""The scheduled pull from 1C's standard OData interface (payments/odata.py) against a fake
1C on the loopback: basic auth, $filter by date, $top/$skip paging, the Balance virtual
table; the payloads are tests/payments/payloads/odata_1c.json (its `_source` names the
documentation they follow)."""

import base64
import copy
import datetime
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.urls import reverse

from accounts import crypto, tenancy
from payments import odata, tasks
from payments.models import Balance, ODataConnection, Payment
from reports.models import ImportedFigure
from rollups import services as rollup_services
from rollups.models import Total
from tests.conftest import Cast

PAYLOADS = json.loads((Path(__file__).parent / "payloads" / "odata_1c.json").read_text())
USER, PASSWORD = "odata.reader", "S3cret-1C"


class Fake1C(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict]] = []
    # What the infobase holds now (a test edits it as an accountant would in 1C).
    data: dict[str, list[dict]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        path = unquote(url.path).removeprefix("/buh/odata/standard.odata/")
        type(self).requests.append((path, params))
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {token}":
            return self._answer(401, {"odata.error": {"code": "", "message": "Unauthorized"}})
        resource = path.split("(")[0]
        if resource not in self.data or params.get("$format") != "json":
            return self._answer(404, {"odata.error": {"code": "-1", "message": "Not found"}})
        rows = self.data[resource]
        if "(guid'" in path:
            # One object by its key: the object itself, or 404 when the infobase has none.
            key = path.split("(guid'")[1].split("')")[0]
            found = [row for row in rows if row["Ref_Key"] == key]
            if not found:
                return self._answer(404, {"odata.error": {"code": "-1", "message": "Not found"}})
            return self._answer(200, {"odata.metadata": "…/$metadata#…/@Element", **found[0]})
        if "$filter" in params:
            since = params["$filter"].split("datetime'")[1][:10]
            rows = [row for row in rows if row["Date"][:10] >= since]
        skip, top = int(params.get("$skip", 0)), int(params.get("$top", 10**6))
        self._answer(200, {"odata.metadata": "…/$metadata", "value": rows[skip : skip + top]})

    def _answer(self, status: int, body: dict) -> None:
        content = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


@pytest.fixture
def fake_1c():
    Fake1C.requests = []
    Fake1C.data = copy.deepcopy({k: v for k, v in PAYLOADS.items() if k != "_source"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake1C)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/buh"
    server.shutdown()
    server.server_close()


def _connect(client, cast: Cast, url: str, password: str = PASSWORD) -> ODataConnection:
    client.force_login(cast.admin)
    with tenancy.tenant_context(cast.company):
        ODataConnection.objects.filter(company=cast.company).delete()
    response = client.post(reverse("payment-connection"), {
        "base_url": url, "username": USER, "password": password, "pull_from": "2026-11-01",
        "payments_entity": "Document_ПоступлениеНаРасчетныйСчет",
        "balances_entity": "AccumulationRegister_РасчетыСКонтрагентами", "active": "on",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()
    with tenancy.tenant_context(cast.company):
        return ODataConnection.objects.get(company=cast.company)


def test_it_pulls_payments_and_balances_page_by_page(client, alpha, fake_1c, monkeypatch):
    monkeypatch.setattr(odata, "PAGE", 2)
    connection = _connect(client, alpha, fake_1c)
    # Stored encrypted, never as typed.
    assert PASSWORD not in connection.password
    assert crypto.decrypt(connection.password) == PASSWORD

    result = tasks.pull_connection.apply(args=(alpha.company.pk, str(connection.code))).get()
    # 0102 is another operation; 0105 is not posted, 0106 marked for deletion: no payments.
    assert result == {"payments": 3, "balances": 2, "dropped": 0, "error": ""}
    with tenancy.tenant_context(alpha.company):
        payments = Payment.objects.filter(company=alpha.company, source="odata")
        assert sorted((p.paid_on.day, p.amount, p.payer_inn) for p in payments) == [
            (3, Decimal(100000), "7701234567"),
            (10, Decimal(25000), "7701234567"),
            (10, Decimal(50000), "500100732259"),
        ]
        balances = Balance.objects.filter(company=alpha.company, source="odata")
        # Two contracts of one counterparty make its one balance.
        assert {b.payer_name: b.amount for b in balances} == {
            "ООО «Ромашка»": Decimal(250000), "ИП Смирнов Андрей Петрович": Decimal(120000),
        }  # fmt: skip
        assert {b.as_of for b in balances} == {alpha.company.today()}
    documents = [p for path, p in Fake1C.requests if path.startswith("Document_")]
    # Six documents, two a page: four requests, the last one empty. Unposted and deleted ones
    # are read too: a payment taken before may have become one.
    assert [(p["$skip"], p["$top"]) for p in documents] == [
        ("0", "2"), ("2", "2"), ("4", "2"), ("6", "2"),
    ]  # fmt: skip
    assert documents[0]["$filter"] == "Date ge datetime'2026-11-01T00:00:00'"
    balance_path = next(path for path, _p in Fake1C.requests if "/Balance(" in path)
    assert balance_path.startswith("AccumulationRegister_РасчетыСКонтрагентами/Balance(Period=")

    # Again: the same payments, nothing added.
    tasks.pull_connection.apply(args=(alpha.company.pk, str(connection.code))).get()
    with tenancy.tenant_context(alpha.company):
        assert Payment.objects.filter(company=alpha.company, source="odata").count() == 3


def test_a_wrong_password_is_said_on_the_page(client, alpha, fake_1c):
    connection = _connect(client, alpha, fake_1c, password="wrong")
    response = client.post(reverse("payment-connection-pull"))
    assert response.status_code == 302
    page = client.get(reverse("payment-connection")).content.decode()
    assert "1С не приняла логин или пароль (ответ 401)." in page
    assert "wrong" not in page
    with tenancy.tenant_context(alpha.company):
        connection.refresh_from_db()
        assert connection.last_error and connection.last_pull_at
        assert not Payment.objects.filter(company=alpha.company, source="odata").exists()


def test_an_unreachable_1c_is_an_error_not_a_crash(alpha):
    with tenancy.tenant_context(alpha.company):
        connection = ODataConnection.objects.get(company=alpha.company)
        ODataConnection.objects.filter(pk=connection.pk).update(base_url="http://127.0.0.1:9")
    result = odata.connection_pull(company_id=alpha.company.pk, code=str(connection.code))
    assert result.error.startswith("1С не отвечает по адресу")


def test_beat_queues_each_active_connection(alpha, beta, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.pull_connection, "delay", lambda *args: queued.append(args))
    with tenancy.tenant_context(beta.company):
        ODataConnection.objects.filter(company=beta.company).update(active=False)
    assert tasks.pull_all() == 1
    assert queued == [(alpha.company.pk, str(_code(alpha)))]


def _code(cast: Cast) -> str:
    with tenancy.tenant_context(cast.company):
        return str(ODataConnection.objects.get(company=cast.company).code)


def _paid(cast: Cast) -> dict[tuple[int, int], Decimal]:
    """{(manager index, November day): the day's figure of «Сумма сделок» from 1C}."""
    index = {manager.pk: number for number, manager in enumerate(cast.managers)}
    figures = ImportedFigure.objects.filter(
        company=cast.company, kpi__code="deals_sum", source="accounting", date__month=11
    ).values_list("manager_id", "date", "value")
    return {(index[manager_id], day.day): value for manager_id, day, value in figures}


def test_payments_unposted_deleted_or_gone_in_1c_leave_with_their_figures(
    client, crm_november, fake_1c
):
    """By hand, «Сумма сделок» of manager 0 (Ромашка) and manager 1 (Смирнов), November:

    | 1C, first pull                    | second pull, after the accountant's edits      |
    |-----------------------------------|------------------------------------------------|
    | 0101 03.11 Ромашка 100 000 → m0   | deleted from the infobase: gone (404 by key)   |
    | 0103 10.11 Смирнов  50 000 → m1   | marked for deletion: DeletionMark true         |
    | 0104 10.11 Ромашка  25 000 → m0   | unposted: Posted false                         |
    |                                   | 0107 20.11 Ромашка 30 000, posted → m0         |
    Figures after the first pull: m0 03.11 100 000, 10.11 25 000; m1 10.11 50 000. After the
    second: m0 20.11 30 000, nothing else; m0's November total 30 000, m1 has none.
    """
    cast = crm_november
    connection = _connect(client, cast, fake_1c)
    first = tasks.pull_connection.apply(args=(cast.company.pk, str(connection.code))).get()
    assert (first["payments"], first["dropped"]) == (3, 0)
    with tenancy.tenant_context(cast.company):
        assert _paid(cast) == {(0, 3): 100000, (0, 10): 25000, (1, 10): 50000}

    documents = {row["Number"]: row for row in Fake1C.data["Document_ПоступлениеНаРасчетныйСчет"]}
    Fake1C.data["Document_ПоступлениеНаРасчетныйСчет"].remove(documents["0000-000101"])
    documents["0000-000103"].update(DeletionMark=True, Posted=False)
    documents["0000-000104"].update(Posted=False)
    Fake1C.data["Document_ПоступлениеНаРасчетныйСчет"].append(
        {**documents["0000-000104"], "Ref_Key": "a1f0e2d4-8b11-11f0-9a7c-0050569f0107",
         "Number": "0000-000107", "Date": "2026-11-20T00:00:00", "Posted": True,
         "СуммаДокумента": 30000, "НазначениеПлатежа": "Оплата по счёту 17"}
    )  # fmt: skip
    with tenancy.tenant_context(cast.company):
        # The last pull was early in November: its week of overlap reaches the 1st.
        ODataConnection.objects.filter(pk=connection.pk).update(
            last_pull_at=datetime.datetime(2026, 11, 5, 9, tzinfo=datetime.UTC)
        )
    Fake1C.requests = []
    response = client.post(reverse("payment-connection-pull"), follow=True)
    page = response.content.decode()
    assert "Убрано оплат, которых в 1С больше нет" in page and ": 3." in page
    # The one payment not listed any more was asked for by its key, and 1C had none.
    by_key = [path for path, _p in Fake1C.requests if "(guid'" in path]
    assert by_key == [
        "Document_ПоступлениеНаРасчетныйСчет(guid'a1f0e2d4-8b11-11f0-9a7c-0050569f0101')"
    ]
    rollup_services.rollup_run(company_id=cast.company.pk)
    with tenancy.tenant_context(cast.company):
        assert sorted(
            Payment.objects.filter(company=cast.company, source="odata").values_list(
                "external_id", flat=True
            )
        ) == ["a1f0e2d4-8b11-11f0-9a7c-0050569f0107"]
        assert _paid(cast) == {(0, 20): 30000}
        month = dict(
            Total.objects.filter(
                company=cast.company, scope="manager", kpi__code="deals_sum", period="month",
                start=datetime.date(2026, 11, 1),
            ).values_list("subject_id", "actual")
        )  # fmt: skip
        assert month.get(cast.managers[0].pk) == 30000
        assert not month.get(cast.managers[1].pk)
