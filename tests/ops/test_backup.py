"""The installation's backup: the backup service's script (docker/backup.sh) dumps the
database with pg_dump and keeps BACKUP_KEEP_DAYS of dumps; docs/backup.md's restore puts the
dump into a fresh database beside the roles, and the app, as its own role under row-level
security, reads the same figures from it."""

import os
import subprocess
import time
import uuid
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.db import connections

from accounts import tenancy
from accounts.models import Company, User
from tests.accounts.test_backup import figures
from tests.conftest import ROOT

PG_BIN = Path("/usr/lib/postgresql/15/bin")

pytestmark = pytest.mark.django_db(transaction=True)


def libpq_env(url: str, database: str) -> dict[str, str]:
    """The PG* variables the backup service gets from docker-compose.yml, for `url`'s role."""
    parts = dj_database_url.parse(url)
    return {
        "PATH": f"{PG_BIN}:{os.environ['PATH']}",
        "PGHOST": parts["HOST"],
        "PGPORT": str(parts["PORT"]),
        "PGUSER": parts["USER"],
        "PGPASSWORD": parts["PASSWORD"],
        "PGDATABASE": database,
    }


def admin_execute(*statements: str) -> None:
    with psycopg.connect(os.environ["DATABASE_ADMIN_URL"], autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def rls_state(database: str) -> list[tuple]:
    url = dj_database_url.parse(os.environ["DATABASE_ADMIN_URL"])
    with psycopg.connect(
        host=url["HOST"], port=url["PORT"], user=url["USER"], password=url["PASSWORD"],
        dbname=database,
    ) as conn:  # fmt: skip
        tables = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner)"
            " FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
            " ORDER BY relname"
        ).fetchall()
        policies = conn.execute(
            "SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies"
            " ORDER BY tablename, policyname"
        ).fetchall()
        grants = conn.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = 'salesdesk_app' ORDER BY 1, 2"
        ).fetchall()
    return [tables, policies, grants]


def test_the_nightly_dump_restores_into_a_fresh_database(alpha, beta, tmp_path):
    database = connections["default"].settings_dict["NAME"]
    before = {"alpha": figures(alpha.company), "beta": figures(beta.company)}
    assert before["alpha"]["totals"] and before["beta"]["values"]
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "salesdesk-2000-01-01T020000Z.dump"
    recent = backups / "salesdesk-recent.dump"
    for file, days in ((old, 20), (recent, 3)):
        file.write_bytes(b"an older dump")
        moment = time.time() - days * 86400
        os.utime(file, (moment, moment))

    # The backup service's run, as docker-compose.yml configures it (the superuser).
    env = {**libpq_env(os.environ["DATABASE_ADMIN_URL"], database), "BACKUP_DIR": str(backups),
           "BACKUP_KEEP_DAYS": "14"}  # fmt: skip
    result = subprocess.run(
        ["sh", str(ROOT / "docker/backup.sh"), "now"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    dumps = sorted(backups.glob("salesdesk-2*.dump"))
    assert len(dumps) == 1 and dumps[0] != old, "the old dump is removed, a new one written"
    assert recent.exists(), "a dump within BACKUP_KEEP_DAYS is kept"
    assert not list(backups.glob(".*partial"))

    # docs/backup.md's restore: a fresh database owned by the owner role, as
    # docker/postgres-init.sh creates it on a new volume, then pg_restore as the superuser.
    restored = f"restore_{uuid.uuid4().hex[:8]}"
    admin_execute(f"CREATE DATABASE {restored} OWNER salesdesk_owner")
    try:
        result = subprocess.run(
            [PG_BIN / "pg_restore", "--exit-on-error", "--dbname", restored, dumps[0]],
            env=libpq_env(os.environ["DATABASE_ADMIN_URL"], restored),
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        # Owners, row-level security (forced), policies and the app role's grants came back.
        assert rls_state(restored) == rls_state(database)

        # The app, as its own role, on the restored database.
        default = connections["default"]
        default.close()
        default.settings_dict["NAME"] = restored
        try:
            assert default.settings_dict["USER"] == "salesdesk_app"
            after = {
                "alpha": figures(Company.objects.get(code=alpha.company.code)),
                "beta": figures(Company.objects.get(code=beta.company.code)),
            }
            # Outside any company the app role sees no company's users (the manager would
            # refuse to ask: the query goes raw).
            with default.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM accounts_user")
                assert cursor.fetchone()[0] == 0
            with tenancy.tenant_context(Company.objects.get(code=alpha.company.code)):
                assert User.objects.filter(username="alpha.head").exists()
                assert not User.objects.filter(username="beta.head").exists()
        finally:
            default.close()
            default.settings_dict["NAME"] = database
        assert after == before
    finally:
        admin_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{restored}' AND pid <> pg_backend_pid()",
            f"DROP DATABASE {restored}",
        )


def test_the_tables_owner_cannot_dump_every_company(alpha, tmp_path):
    """Why the backup service dumps as the superuser: the tables FORCE row-level security, and
    pg_dump refuses a table whose rows a policy would hide."""
    database = connections["default"].settings_dict["NAME"]
    result = subprocess.run(
        [PG_BIN / "pg_dump", "--format=custom", "--file", tmp_path / "x.dump"],
        env=libpq_env(os.environ["DATABASE_OWNER_URL"], database),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "row-level security" in result.stderr
