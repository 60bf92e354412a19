"""The embedded profile (SQLite): the head's dashboard and its poll, which reads the state
of the figures with the ORM like every other query (the demo's database is SQLite)."""

from tests.test_settings import run_manage

SCENARIO = """
from django.test import Client
from django.test.utils import setup_test_environment
from accounts import tenancy
from accounts.models import User
from tests.factories import CompanyFactory, TeamFactory, UserFactory

setup_test_environment()
company = CompanyFactory()
head = UserFactory(company=company, role=User.Role.HEAD)
UserFactory(company=company, team=TeamFactory(company=company, head=head), last_name="Сидорова")
client = Client()
with tenancy.tenant_context(company):
    client.force_login(head)
page = client.get("/dashboard/")
assert page.status_code == 200 and "Сидорова" in page.content.decode(), page.status_code
state = page.context["state_headers"].split('"')[3]
poll = {"HX-Request": "true", "HX-Target": "figures", "HX-Trigger": "figures"}
print("poll", client.get("/dashboard/", headers={**poll, "X-Figures-State": state}).status_code)
print("stale", client.get("/dashboard/", headers={**poll, "X-Figures-State": "x"}).status_code)
"""


def test_the_dashboard_and_its_poll_work_on_sqlite(embedded_env):
    result = run_manage("shell", "-v0", "-c", SCENARIO, **embedded_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "poll 204" in result.stdout and "stale 200" in result.stdout
