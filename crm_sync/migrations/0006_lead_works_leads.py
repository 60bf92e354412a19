import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_user_is_sample'),
        ('crm_sync', '0005_merge_mapping_data_pbx_1c'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='crmconnection',
            name='works_leads',
            field=models.BooleanField(default=False, verbose_name='отдел работает с лидами'),
        ),
        migrations.AddField(
            model_name='crmconnection',
            name='crm_has_leads',
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='Lead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('manual', 'Вручную'), ('file', 'Файл'), ('amocrm', 'amoCRM / Kommo'), ('bitrix24', 'Битрикс24'), ('telephony', 'Телефония')], max_length=16)),
                ('external_id', models.CharField(max_length=64, verbose_name='номер в источнике')),
                ('title', models.CharField(blank=True, max_length=255, verbose_name='лид')),
                ('crm_user_id', models.CharField(blank=True, max_length=64)),
                ('status', models.CharField(choices=[('open', 'В работе'), ('converted', 'Сконвертирован'), ('junk', 'Некачественный')], default='open', max_length=12)),
                ('status_id', models.CharField(blank=True, max_length=64, verbose_name='статус в CRM')),
                ('channel', models.CharField(blank=True, max_length=100, verbose_name='канал привлечения')),
                ('created_at', models.DateTimeField(verbose_name='создан')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='закрыт')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('company', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.company')),
                ('manager', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='leads', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'лид',
                'verbose_name_plural': 'лиды',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['company', 'manager', 'created_at'], name='lead_day_idx')],
                'constraints': [models.UniqueConstraint(fields=('company', 'source', 'external_id'), name='lead_external_uniq')],
            },
        ),
        EnableRowLevelSecurity("crm_sync_lead"),
    ]
