from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rollups", "0004_total_plan_to_date"),
    ]

    operations = [
        migrations.AddField(
            model_name="reconciliation",
            name="full",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="reconciliation",
            name="rotation_from",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="reconciliation",
            name="rotation_to",
            field=models.DateField(blank=True, null=True),
        ),
    ]
