from django.db import migrations


def catalogue_into_catalog(apps, schema_editor):
    """The mapping page's cache (`catalogue`: pipelines and people) joins the pull's
    (`catalog`: names, rates) in one field; both contents are kept. Neither says when it was
    asked, so the next pull refreshes the whole (crm_sync.catalog)."""
    Company = apps.get_model("accounts", "Company")
    CRMConnection = apps.get_model("crm_sync", "CRMConnection")
    connection = schema_editor.connection
    for company_id in Company.objects.order_by("pk").values_list("pk", flat=True):
        if connection.vendor == "postgresql":
            # A company's rows are seen and changed only in its row-level security context.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.company_id', %s, true)", [str(company_id)])
        for crm in CRMConnection.objects.filter(company_id=company_id).exclude(catalogue={}):
            merged = {**(crm.catalog or {}), **crm.catalogue}
            CRMConnection.objects.filter(pk=crm.pk).update(catalog=merged)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.company_id', '', true)")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_user_is_sample'),
        ('crm_sync', '0005_merge_mapping_data_pbx_1c'),
    ]

    operations = [
        migrations.RunPython(catalogue_into_catalog, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='crmconnection',
            name='catalogue',
        ),
    ]
