from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("crm_sync", "0001_initial")]

    operations = [
        EnableRowLevelSecurity(table)
        for table in (
            "crm_sync_pipelinestage",
            "crm_sync_client",
            "crm_sync_deal",
            "crm_sync_stagevisit",
            "crm_sync_call",
            "crm_sync_crmconnection",
            "crm_sync_importjob",
        )
    ]
