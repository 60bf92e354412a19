from django.db import migrations, models

from salesdesk.migration_operations import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    # The company's stale buckets in id order, for the rollup's claim (models.Bucket): built
    # before the old index goes, both without locking out the reports that mark buckets.
    atomic = False

    dependencies = [
        ("accounts", "0014_user_pbx_identity"),
        ("rollups", "0005_reconciliation_rotation"),
    ]

    operations = [
        AddIndexOnline(
            model_name="bucket",
            index=models.Index(
                condition=models.Q(("marks__gt", models.F("done"))),
                fields=["company", "id"],
                name="stale_by_id",
            ),
        ),
        RemoveIndexOnline(model_name="bucket", name="stale"),
    ]
