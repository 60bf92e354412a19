from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]

    operations = [
        EnableRowLevelSecurity(table)
        for table in (
            "quality_qualitysettings",
            "quality_calltype",
            "quality_checklistitem",
            "quality_callscore",
            "quality_itemmark",
        )
    ]
