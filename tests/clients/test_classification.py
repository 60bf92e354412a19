"""ABC/XYZ classification of a month: boundaries, thresholds, idempotence, changes."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts import tenancy
from clients import selectors, services
from clients.models import ClientClass
from tests.clients.conftest import (
    ABC_EXPECTED,
    ABC_EXPECTED_50_90,
    JULY,
    JUNE,
    XYZ,
    noon,
    won_deal,
)

JUNE_END = datetime.date(2026, 6, 30)


def classes(company, month) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        entry.client.name: (entry.abc, entry.xyz)
        for entry in ClientClass.objects.filter(company=company, month=month).select_related(
            "client"
        )
    }


def test_it_classifies_abc_by_the_share_before_each_client(abc_clients):
    company = abc_clients.cast.company
    with tenancy.tenant_context(company):
        result = services.classification_run(company=company, month=JUNE, today=JULY)
        found = classes(company, JUNE)
    assert result.as_of == JUNE_END and result.classified == 5
    assert {name: abc for name, (abc, _xyz) in found.items()} == ABC_EXPECTED
    # One purchase in twelve months: CV = √11 × 100.
    with tenancy.tenant_context(company):
        entry = ClientClass.objects.get(company=company, month=JUNE, client__name="Пальма")
    assert (entry.xyz, entry.cv, entry.revenue) == ("Z", Decimal("331.66"), Decimal(500000))
    assert entry.manager_id == abc_clients.cast.managers[1].pk


def test_clients_without_revenue_in_the_window_are_counted_apart(abc_clients):
    cast = abc_clients.cast
    with tenancy.tenant_context(cast.company):
        services.classification_run(company=cast.company, month=JUNE, today=JULY)
        matrix = selectors.matrix_of(company=cast.company, month=JUNE, viewer=cast.admin)
        found = classes(cast.company, JUNE)
    assert "Бук" not in found and "Вяз" not in found
    assert matrix.unclassified == 1  # Бук; Вяз never bought
    assert matrix.total == 5


def test_thresholds_are_per_company(abc_clients, beta):
    company = abc_clients.cast.company
    with tenancy.tenant_context(company):
        services.settings_update(company=company, abc_a_share=Decimal(50), abc_b_share=Decimal(90))
        services.classification_run(company=company, month=JUNE, today=JULY)
        found = classes(company, JUNE)
    assert {name: abc for name, (abc, _xyz) in found.items()} == ABC_EXPECTED_50_90
    with tenancy.tenant_context(beta.company):
        theirs = selectors.analysis_settings(company=beta.company)
    assert (theirs.abc_a_share, theirs.abc_b_share) == (80, 95)


def test_a_bad_threshold_is_refused_with_a_reason(alpha):
    with tenancy.tenant_context(alpha.company), pytest.raises(ValidationError, match="порог A"):
        services.settings_update(
            company=alpha.company, abc_a_share=Decimal(96), abc_b_share=Decimal(95)
        )


def test_xyz_boundaries(xyz_clients):
    company = xyz_clients.cast.company
    with tenancy.tenant_context(company):
        services.classification_run(company=company, month=JUNE, today=JULY)
        entries = {
            e.client.name: e
            for e in ClientClass.objects.filter(month=JUNE).select_related("client")
        }
    for name, (_high, _low, cv, xyz) in XYZ.items():
        assert (entries[name].cv, entries[name].xyz) == (Decimal(cv), xyz), name


def test_a_rerun_replaces_the_month(abc_clients):
    cast = abc_clients.cast
    with tenancy.tenant_context(cast.company):
        services.classification_run(company=cast.company, month=JUNE, today=JULY)
        first = classes(cast.company, JUNE)
        services.classification_run(company=cast.company, month=JUNE, today=JULY)
        assert classes(cast.company, JUNE) == first
        assert ClientClass.objects.filter(month=JUNE).count() == 5
        # A deal that is no longer won leaves the next run.
        abc_clients.by_name["Туя"].deals.update(status="lost")
        services.classification_run(company=cast.company, month=JUNE, today=JULY)
        assert set(classes(cast.company, JUNE)) == {"Пальма", "Кедр", "Ель", "Сосна"}


def test_the_running_month_is_classified_to_date(abc_clients):
    cast = abc_clients.cast
    with tenancy.tenant_context(cast.company):
        result = services.classification_run(
            company=cast.company, month=JUNE, today=datetime.date(2026, 6, 9)
        )
    # The June deals were won on the 10th: nothing yet as of the 9th.
    assert (result.as_of, result.classified) == (datetime.date(2026, 6, 9), 0)


def test_change_since_last_month(abc_clients):
    cast = abc_clients.cast
    company = cast.company
    with tenancy.tenant_context(company):
        services.classification_run(company=company, month=JUNE, today=JULY)
        won_deal(company, abc_clients.by_name["Туя"], noon(2026, 7, 8), 1000000, cast.managers[1])
        services.classification_run(company=company, month=JULY, today=datetime.date(2026, 8, 2))
        assert {n: a + x for n, (a, x) in classes(company, JULY).items()} == {
            "Туя": "AZ", "Пальма": "AZ", "Кедр": "AZ", "Ель": "BZ", "Сосна": "CZ",
        }  # fmt: skip
        changes = selectors.class_changes(company=company, month=JULY, viewer=cast.admin)
        matrix = selectors.matrix_of(company=company, month=JULY, viewer=cast.admin)
    assert {(r.entry.client.name, r.last_class, r.entry.cell) for r in changes} == {
        ("Туя", "CZ", "AZ"),
        ("Сосна", "BZ", "CZ"),
    }
    cells = {cell.abc + cell.xyz: cell for row in matrix.rows for cell in row}
    assert matrix.previous == JUNE
    assert (cells["AZ"].count, cells["AZ"].change) == (3, 1)
    assert (cells["BZ"].count, cells["BZ"].change) == (1, -1)
    assert (cells["CZ"].count, cells["CZ"].change) == (1, 0)
    assert cells["AZ"].revenue == Decimal(1040000 + 500000 + 300000)
    assert cells["AX"].count == 0


def test_a_monthly_client_stays_steady_in_the_month_that_has_just_begun(alpha):
    """July 2 is classified over the window's complete months: the July that has barely
    begun would otherwise be a zero month and make a monthly buyer unsteady (CV 30 %, Z)."""
    from tests.clients.conftest import make_client

    company, manager = alpha.company, alpha.managers[1]
    with tenancy.tenant_context(company):
        client = make_client(company, "Каждый месяц")
        for n in range(12):
            year, month = (2025, 7 + n) if n < 6 else (2026, n - 5)
            won_deal(company, client, noon(year, month, 15), 1000, manager)
        services.classification_run(company=company, month=JULY, today=datetime.date(2026, 7, 2))
        entry = ClientClass.objects.get(month=JULY, client=client)
    assert (entry.xyz, entry.cv, entry.revenue) == ("X", Decimal("0.00"), Decimal(11000))
