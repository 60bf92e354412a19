"""The hourly beat tasks pick each company at its own local hour."""

from clients import tasks


def test_the_daily_job_runs_at_five_on_the_companys_clock(alpha, monkeypatch):
    queued = []
    for task in (tasks.refresh_alerts, tasks.refresh_client_figures):
        monkeypatch.setattr(
            task, "delay", lambda *args, name=task.name: queued.append((name, args))
        )
    # 02:10 UTC is 05:10 in Moscow.
    assert tasks.daily_due("2026-07-14T02:10:00+00:00") == [alpha.company.pk]
    assert queued == [
        ("clients.tasks.refresh_alerts", (alpha.company.pk,)),
        ("clients.tasks.refresh_client_figures", (alpha.company.pk,)),
    ]
    assert tasks.daily_due("2026-07-14T05:10:00+00:00") == []


def test_the_monthly_job_waits_for_the_first(alpha, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.classify_company, "delay", lambda *args: queued.append(args))
    assert tasks.classify_due("2026-07-02T01:30:00+00:00") == []
    assert tasks.classify_due("2026-01-01T01:30:00+00:00") == [alpha.company.pk]
    assert queued == [(alpha.company.pk, "2025-12-01")]
