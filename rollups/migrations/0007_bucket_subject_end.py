from django.db import migrations, models

from salesdesk.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    # A subject's buckets by their end (models.Bucket), built without locking out the reports
    # that mark buckets.
    atomic = False

    dependencies = [
        ("rollups", "0006_stale_by_id"),
    ]

    operations = [
        AddIndexOnline(
            model_name="bucket",
            index=models.Index(
                fields=["company", "scope", "subject_id", "end"], name="bucket_subject_end"
            ),
        ),
    ]
