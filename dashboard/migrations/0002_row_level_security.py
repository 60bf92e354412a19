from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0001_initial")]

    operations = [EnableRowLevelSecurity("dashboard_dashboardvisit")]
