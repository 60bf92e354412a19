from django.db import migrations, models


def sourced_kpis_checked(apps, schema_editor):
    """A KPI a CRM or the telephony supplies keeps counting what the manager typed, as it did,
    and now says where the source disagrees ('checked'); no stored total changes.

    Company by company, since the table is under row-level security (accounts/rls.py)."""
    Company = apps.get_model("accounts", "Company")
    KPI = apps.get_model("kpi", "KPI")
    postgres = schema_editor.connection.vendor == "postgresql"
    for company_id in Company.objects.values_list("pk", flat=True):
        if postgres:
            schema_editor.execute(
                "SELECT set_config('app.company_id', %s, true)", [str(company_id)]
            )
        KPI._base_manager.filter(company_id=company_id, source__in=["crm", "telephony"]).update(
            record="checked"
        )
    if postgres:
        schema_editor.execute("SELECT set_config('app.company_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("kpi", "0006_calendar_from_holidays"),
    ]

    operations = [
        migrations.AddField(
            model_name="kpi",
            name="record",
            field=models.CharField(
                choices=[
                    ("source", "цифра источника (CRM или телефонии)"),
                    ("manager", "цифра менеджера"),
                    ("checked", "цифра менеджера, сверенная с источником"),
                ],
                default="manager",
                max_length=8,
                verbose_name="цифра учёта",
            ),
        ),
        migrations.RunPython(sourced_kpis_checked, migrations.RunPython.noop),
    ]
