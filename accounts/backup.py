"""One company's data to a file and back: `manage.py export_company` / `import_company`.

The file is JSON (gzipped when its name ends in `.gz`) with the company's row and every
tenant table's rows in dependency order, in the shape of Django's "python" serializer.
Django's serializers because they already round-trip every field type stored here (import
files as bytes, decimals, aware datetimes, JSON) and save raw, so that `created` and other
`auto_now_add` moments keep their original values. Rows are re-inserted one by one under
new primary keys (the ids of the target installation's sequences); every reference,
including the rollups' `subject_id`, is remapped; codes and uids stay as they were, so
URLs, API references and webhook addresses keep working. Users keep their password
hashes and API tokens their hashes; the CRM tokens stay encrypted with the installation's
CRM_CREDENTIALS_KEY (or SECRET_KEY), which the target must share to use them.
"""

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from accounts import tenancy
from accounts.audit import audit_record
from accounts.models import AuditEvent, Company, LoginName, Team, TenantModel, User

FORMAT = "salesdesk-company-export"
VERSION = 1


class BackupError(Exception):
    pass


def _references(model: type[models.Model]) -> list[models.ForeignKey]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.is_relation and field.name != "company"
    ]


# Rollups name their subject by id, without a foreign key: which table it is depends on scope.
SUBJECT_MODELS = {"manager": "accounts.user", "team": "accounts.team", "company": None}


def _has_subject(model: type[models.Model]) -> bool:
    names = {field.name for field in model._meta.concrete_fields}
    return {"scope", "subject_id"} <= names


def tenant_models() -> list[type[models.Model]]:
    """Every tenant table's model, each after the models it refers to.

    Where references go both ways (a team's head is a user, a user's team is a team), the
    nullable side waits: it is filled in once both rows exist.
    """
    remaining = [m for m in apps.get_models() if issubclass(m, TenantModel)]
    ordered: list[type[models.Model]] = []

    def ready(model: type[models.Model], *, required_only: bool) -> bool:
        if _has_subject(model) and not {User, Team} <= set(ordered):
            return False
        return all(
            field.related_model in ordered or field.related_model is model
            for field in _references(model)
            if not (required_only and field.null)
        )

    while remaining:
        batch = [m for m in remaining if ready(m, required_only=False)]
        if not batch:
            batch = [m for m in remaining if ready(m, required_only=True)][:1]
        if not batch:
            raise BackupError(f"circular required references among {remaining}")
        ordered += batch
        remaining = [m for m in remaining if m not in batch]
    return ordered


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return path.open(mode, encoding="utf-8")


def _rows(queryset: Iterable[models.Model]) -> list[dict[str, Any]]:
    rows = serializers.serialize("python", queryset)
    for row in rows:
        # Django's groups and permissions are the operators' console's, never a company's.
        row["fields"].pop("groups", None)
        row["fields"].pop("user_permissions", None)
    return rows


def company_export(*, company: Company, path: Path) -> dict[str, int]:
    """Writes the company's file; returns the number of rows of each table."""
    with tenancy.tenant_context(company):
        tables = [
            {
                "model": model._meta.label_lower,
                "rows": _rows(model._base_manager.filter(company=company).order_by("pk")),
            }
            for model in tenant_models()
        ]
        migrations = {
            app: name
            for app, name in MigrationRecorder.Migration.objects.order_by("id").values_list(
                "app", "name"
            )
        }
        data = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": timezone.now(),
            "migrations": migrations,
            "company": _rows([company])[0],
            "tables": tables,
        }
        with _open(path, "w") as file:
            json.dump(data, file, cls=DjangoJSONEncoder, ensure_ascii=False)
        audit_record(company=company, action=AuditEvent.Action.EXPORTED, target=path.name)
    return {table["model"]: len(table["rows"]) for table in tables}


def _read(path: Path) -> dict[str, Any]:
    try:
        with _open(path, "r") as file:
            data = json.load(file)
    except (OSError, ValueError) as error:
        raise BackupError(f"{path}: not a readable export ({error})") from error
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BackupError(f"{path}: not a {FORMAT} file of version {VERSION}")
    return data


def _check_importable(data: dict[str, Any]) -> None:
    code = data["company"]["fields"]["code"]
    existing = Company.objects.filter(code=code).first()
    if existing is not None:
        raise BackupError(
            f"company {code} ({existing.name}) already exists here: delete it first or "
            "import into another installation"
        )
    prefix = data["company"]["fields"].get("login_prefix")
    if prefix and Company.objects.filter(login_prefix=prefix).exists():
        raise BackupError(f"the login prefix {prefix!r} belongs to another company here")
    logins = [
        row["fields"]["username"]
        for table in data["tables"]
        if table["model"] == User._meta.label_lower
        for row in table["rows"]
    ]
    taken = sorted(LoginName.objects.filter(username__in=logins).values_list("username", flat=True))
    if taken:
        raise BackupError(f"these logins belong to another company here: {', '.join(taken)}")
    known = {m._meta.label_lower for m in tenant_models()}
    unknown = [t["model"] for t in data["tables"] if t["model"] not in known]
    if unknown:
        raise BackupError(f"tables unknown to this installation: {', '.join(unknown)}")


def company_import(*, path: Path) -> Company:
    """Creates the company of the file with all its rows; refuses if it already exists."""
    data = _read(path)
    _check_importable(data)
    with transaction.atomic():
        company_row = {**data["company"], "pk": None}
        [saved] = serializers.deserialize("python", [company_row])
        saved.save()
        company: Company = saved.object
        with tenancy.tenant_context(company):
            new_ids = _insert_tables(company, data["tables"])
            for user in User._base_manager.filter(pk__in=new_ids[User._meta.label_lower].values()):
                LoginName.objects.create(username=user.username, user=user, company=company)
            audit_record(
                company=company,
                action=AuditEvent.Action.IMPORTED,
                target=f"{path.name} ({data['exported_at']})",
            )
    return company


def _insert_tables(company: Company, tables: list[dict[str, Any]]) -> dict[str, dict[int, int]]:
    new_ids: dict[str, dict[int, int]] = {t["model"]: {} for t in tables}
    new_ids[Company._meta.label_lower] = {}
    # (model, new pk, field attname, referenced model, old referenced pk): filled in at the end.
    deferred: list[tuple[type[models.Model], int, str, str, Any]] = []
    for table in tables:
        model = apps.get_model(table["model"])
        references = {field.name: field for field in _references(model)}
        for row in table["rows"]:
            fields = dict(row["fields"])
            fields["company"] = company.pk
            later = []
            for name, field in references.items():
                old = fields.get(name)
                if old is None:
                    continue
                target = field.related_model._meta.label_lower
                new = new_ids.get(target, {}).get(old)
                if new is not None:
                    fields[name] = new
                elif field.null:
                    fields[name] = None
                    later.append((field.attname, target, old))
                else:
                    raise BackupError(f"{table['model']} {row['pk']}: {name} {old} is missing")
            if _has_subject(model):
                subject_model = SUBJECT_MODELS[fields["scope"]]
                fields["subject_id"] = (
                    company.pk
                    if subject_model is None
                    else new_ids[subject_model][fields["subject_id"]]
                )
            [saved] = serializers.deserialize(
                "python", [{"model": table["model"], "pk": None, "fields": fields}]
            )
            saved.save()
            new_ids[table["model"]][row["pk"]] = saved.object.pk
            deferred += [(model, saved.object.pk, *rest) for rest in later]
    for model, pk, attname, target, old in deferred:
        model._base_manager.filter(pk=pk).update(**{attname: new_ids[target][old]})
    return new_ids


def company_delete(*, company: Company) -> None:
    """Deletes the company and every row of it, as a restore from its file needs first.

    Under the company's row-level security, so no statement can reach another company's
    rows; the foreign keys are checked at commit, so the tables' order does not matter.
    """
    with tenancy.tenant_context(company), connection.cursor() as cursor:
        for model in reversed(tenant_models()):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE company_id = %s", [company.pk])  # noqa: S608
        LoginName.objects.filter(company=company).delete()
        Company.objects.filter(pk=company.pk).delete()
