"""docker-compose.yml as docker compose would read it (Docker itself is not on these
machines): every service gets every setting, one image for the app, health checks that do
not pass too early, secrets kept where they belong and out of the image."""

import re
from pathlib import Path

import yaml

from tests.conftest import ROOT

APP = ("migrate", "web", "worker", "beat")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            values[match[1]] = match[2]
    return values


def test_every_service_reads_the_env_file():
    for name, service in services().items():
        if name != "redis":
            assert service.get("env_file") == ".env", name


def test_every_setting_the_app_reads_is_in_env_example():
    read = set(
        re.findall(r'env\w*\(\s*"([A-Z][A-Z0-9_]+)"', (ROOT / "salesdesk/settings.py").read_text())
    )
    read |= set(
        re.findall(
            r'os\.environ\.get\(\s*"([A-Z][A-Z0-9_]+)"',
            (ROOT / "salesdesk/settings.py").read_text(),
        )
    )
    # Set by docker-compose.yml itself, or for development and tests only.
    not_for_env_file = {
        "DATABASE_URL", "REDIS_URL", "DEBUG", "EMAIL_BACKEND", "EMAIL_FILE_PATH",
        "FAST_PASSWORD_HASHER", "CELERY_TASK_ALWAYS_EAGER", "STATICFILES_BACKEND",
        "WHITENOISE_USE_FINDERS", "AXES_ENABLED", "AXES_FAILURE_LIMIT", "TELEGRAM_API_URL",
        "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DATABASE_APP_ROLE", "HEALTH_BEAT_SECONDS",
        "HEALTH_WORKER_TIMEOUT",
    }  # fmt: skip
    missing = read - not_for_env_file - set(env_example())
    assert not missing, f"settings.py reads these, .env.example does not list them: {missing}"
    for name in ("SECURE", "EMAIL_PORT", "EMAIL_USER", "EMAIL_PASSWORD", "EMAIL_USE_TLS",
                 "CRM_CREDENTIALS_KEY", "SENTRY_DSN", "DOMAIN", "SITE_ADDRESS"):  # fmt: skip
        assert name in env_example(), name


def test_web_worker_and_beat_run_the_one_image_migrate_builds():
    all_services = services()
    images = {all_services[name]["image"] for name in APP}
    assert images == {"salesdesk:latest"}
    built = [name for name, service in all_services.items() if "build" in service]
    assert built == ["migrate"]
    for name in ("web", "worker", "beat"):
        assert all_services[name]["pull_policy"] == "never"
        assert all_services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_the_app_connects_as_the_app_role_and_migrates_as_the_owner():
    all_services = services()
    for name in ("web", "worker", "beat"):
        env = all_services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://salesdesk_app:")
        # The env file has every password; the app's containers lose the others'.
        assert env["POSTGRES_PASSWORD"] == "" and env["SALESDESK_OWNER_PASSWORD"] == ""
    assert all_services["migrate"]["environment"]["DATABASE_URL"].startswith(
        "postgres://salesdesk_owner:"
    )


def test_health_checks_go_over_tcp_and_wait_their_start():
    all_services = services()
    pg = all_services["postgres"]["healthcheck"]["test"]
    # The image's init-time server listens on the socket only: a TCP check waits for the
    # real one, after the roles and the database exist.
    assert "pg_isready" in pg and pg[pg.index("-h") + 1] == "127.0.0.1"
    assert pg[pg.index("-d") + 1] == "salesdesk"
    for name in ("postgres", "redis", "web", "worker", "beat"):
        check = all_services[name]["healthcheck"]
        assert check.get("start_period"), name
    assert "/healthz" in " ".join(all_services["web"]["healthcheck"]["test"])
    assert all_services["beat"]["healthcheck"]["test"][-2:] == ["healthcheck", "--beat"]
    assert (ROOT / "accounts/management/commands/healthcheck.py").exists()
    assert all_services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_caddy_serves_the_domain_or_plain_http():
    caddy = services()["caddy"]
    assert caddy["image"].startswith("caddy:")
    assert "./docker/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert "DOMAIN" in caddy["environment"]["SITE_ADDRESS"]
    assert "SITE_ADDRESS" in caddy["environment"]["SITE_ADDRESS"]
    caddyfile = (ROOT / "docker/Caddyfile").read_text()
    assert "{$SITE_ADDRESS}" in caddyfile and "reverse_proxy web:8000" in caddyfile
    assert "ports" not in services()["web"], "only Caddy faces the network"


def test_the_backup_service_dumps_nightly_and_keeps_n_days():
    backup = services()["backup"]
    assert backup["image"] == services()["postgres"]["image"]
    assert backup["environment"]["PGUSER"] == "postgres"
    assert "./backups:/backups" in backup["volumes"]
    script = (ROOT / "docker/backup.sh").read_text()
    assert "pg_dump --format=custom" in script and "BACKUP_KEEP_DAYS" in script


def test_the_image_never_gets_the_env_file_or_local_data():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", "db.sqlite3*", "test-artifacts", "staticfiles", "backups"):
        assert entry in ignored, entry
    assert "!.env.example" in ignored


def test_the_init_script_makes_the_roles_the_app_expects():
    init = (ROOT / "docker/postgres-init.sh").read_text()
    assert "CREATE ROLE salesdesk_owner" in init
    assert re.search(r"CREATE ROLE salesdesk_app .*\n.*NOSUPERUSER .*NOBYPASSRLS", init)
    assert Path(ROOT / "docs/backup.md").read_text().count("pg_restore") >= 1
