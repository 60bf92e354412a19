"""The ABC/XYZ page, its cell partial and Excel export, the settings page; who sees what."""

import datetime
import uuid
from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from accounts import tenancy
from clients import services
from clients.models import AcquisitionCost, ClientAnalysisSettings
from tests.clients.conftest import JULY, JUNE, make_client, noon, won_deal
from tests.factories import TeamFactory, UserFactory

PAGE = "/clients/abc-xyz/?month=2026-06"


def classify(cast) -> None:  # type: ignore[no-untyped-def]
    with tenancy.tenant_context(cast.company):
        services.classification_run(company=cast.company, month=JUNE, today=JULY)


def test_the_matrix_and_a_cell_through_the_client(abc_clients, client):
    cast = abc_clients.cast
    classify(cast)
    client.force_login(cast.head)
    page = client.get(PAGE).content.decode()
    assert '<td data-cell="AZ">' in page and '<strong class="count">2</strong>' in page
    assert "Бук" not in page and "не классифицирован" in page
    partial = client.get(f"{PAGE}&cell=AZ", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert 'id="cell-clients"' in body and "Пальма" in body and "Кедр" in body
    assert "Ель" not in body
    assert client.get(f"{PAGE}&cell=QQ").status_code == 400
    month_only = client.get(PAGE, headers={"HX-Request": "true"}).content.decode()
    assert month_only.lstrip().startswith('<div id="matrix">') and "<html" not in month_only


def test_a_bad_month_says_how_to_write_it(abc_clients, client):
    classify(abc_clients.cast)
    client.force_login(abc_clients.cast.admin)
    response = client.get("/clients/abc-xyz/?month=июнь", follow=True)
    assert "ГГГГ-ММ" in response.content.decode()


def test_the_excel_export_cells(abc_clients, client):
    cast = abc_clients.cast
    classify(cast)
    client.force_login(cast.admin)
    response = client.get("/clients/abc-xyz/export/?month=2026-06")
    assert response["Content-Disposition"] == 'attachment; filename="abc-xyz-2026-06.xlsx"'
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "ABC-XYZ 2026-06"
    assert rows[0] == ("Клиент", "Менеджер", "ABC", "XYZ", "Класс", "Выручка за окно",
                       "Коэффициент вариации, %", "Класс в прошлом месяце")  # fmt: skip
    assert rows[1] == ("Пальма", str(cast.managers[1]), "A", "Z", "AZ", 500000, 331.66, None)
    assert [row[0] for row in rows[1:]] == ["Пальма", "Кедр", "Ель", "Сосна", "Туя"]
    assert [row[4] for row in rows[1:]] == ["AZ", "AZ", "BZ", "BZ", "CZ"]


def test_a_client_named_as_a_formula_is_exported_as_text(abc_clients, client):
    cast = abc_clients.cast
    formula = '=HYPERLINK("https://evil.example","Пальма")'
    with tenancy.tenant_context(cast.company):
        abc_clients.by_name["Пальма"].__class__.objects.filter(
            pk=abc_clients.by_name["Пальма"].pk
        ).update(name=formula)
    classify(cast)
    client.force_login(cast.admin)
    response = client.get("/clients/abc-xyz/export/?month=2026-06")
    cell = load_workbook(BytesIO(response.content)).active["A2"]
    assert (cell.value, cell.data_type) == (formula, "s")


def test_a_head_sees_only_their_teams_clients(abc_clients, client):
    cast = abc_clients.cast
    with tenancy.tenant_context(cast.company):
        elsewhere = TeamFactory(company=cast.company, name="Другой отдел")
        stranger = UserFactory(company=cast.company, username="alpha.other", team=elsewhere)
        won_deal(cast.company, make_client(cast.company, "Чужой"), noon(2026, 6, 3), 1, stranger)
    classify(cast)
    client.force_login(cast.head)
    assert "Чужой" not in client.get(f"{PAGE}&cell=CZ").content.decode()
    export = client.get("/clients/abc-xyz/export/?month=2026-06").content
    names = [r[0] for r in load_workbook(BytesIO(export)).active.iter_rows(values_only=True)]
    assert "Чужой" not in names and "Пальма" in names
    client.force_login(cast.admin)
    assert "Чужой" in client.get(f"{PAGE}&cell=CZ").content.decode()


def test_managers_may_not_see_the_matrix(abc_clients, client):
    client.force_login(abc_clients.cast.manager)
    assert client.get(PAGE).status_code == 403
    assert client.get("/clients/abc-xyz/export/").status_code == 403
    assert client.post("/clients/abc-xyz/recalculate/").status_code == 403
    assert client.get("/clients/").status_code == 403


def test_another_companys_data_is_never_visible(abc_clients, beta, client):
    classify(abc_clients.cast)
    client.force_login(beta.admin)
    for path in (PAGE, f"{PAGE}&cell=AZ", "/clients/", "/clients/alerts/"):
        assert "Пальма" not in client.get(path).content.decode(), path
    names = [
        row[0]
        for row in load_workbook(
            BytesIO(client.get("/clients/abc-xyz/export/?month=2026-06").content)
        ).active.iter_rows(values_only=True)
    ]
    assert names == ["Клиент"]
    with tenancy.tenant_context(abc_clients.cast.company):
        theirs = AcquisitionCost.objects.get()
    assert client.post(f"/clients/costs/{theirs.code}/delete/").status_code == 404
    assert client.post(f"/clients/costs/{uuid.uuid4()}/delete/").status_code == 404
    with tenancy.tenant_context(abc_clients.cast.company):
        assert AcquisitionCost.objects.filter(pk=theirs.pk).exists()


def test_recalculate_queues_the_running_month(alpha, client, django_capture_on_commit_callbacks):
    client.force_login(alpha.head)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/clients/abc-xyz/recalculate/")
    assert response.status_code == 302 and "/clients/abc-xyz/?month=" in response.url
    assert len(callbacks) == 1


def test_the_admin_edits_settings_and_costs(alpha, client):
    client.force_login(alpha.admin)
    form = {
        "form": "settings", "abc_a_share": "70", "abc_b_share": "90", "xyz_x_below": "10",
        "xyz_y_upto": "25", "window_months": "12", "rhythm_tolerance": "2",
        "retention_days": "90",
    }  # fmt: skip
    assert client.post("/clients/settings/", form).status_code == 302
    refused = client.post("/clients/settings/", {**form, "abc_b_share": "60"})
    assert "порог A &lt; порог B" in refused.content.decode()
    cost = client.post("/clients/settings/", {"form": "cost", "month": "2026-05", "amount": "5"})
    assert cost.status_code == 302
    bad = client.post("/clients/settings/", {"form": "cost", "month": "май", "amount": "5"})
    assert "ГГГГ-ММ" in bad.content.decode()
    with tenancy.tenant_context(alpha.company):
        found = ClientAnalysisSettings.objects.get()
        assert (found.abc_a_share, found.rhythm_tolerance) == (70, 2)
        may = AcquisitionCost.objects.get(month=datetime.date(2026, 5, 1))
        assert may.amount == Decimal(5)
    assert client.post(f"/clients/costs/{may.code}/delete/").status_code == 302
    client.force_login(alpha.head)
    assert client.get("/clients/settings/").status_code == 403
