import os
from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.models import Company
from tests.e2e.walks import walk_signup_to_dashboard

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_company_signs_up_sets_up_and_its_head_sees_a_report(page, live_server, clear_mail):
    cache.clear()  # the sign-up rate limits of earlier tests

    def read_outbox() -> list[str]:
        return [mail.get_content() for mail in clear_mail.sent_mail(count=0, timeout=0)]

    shots = os.environ.get("E2E_SCREENSHOTS")
    walk = walk_signup_to_dashboard(
        page, live_server.url, read_outbox, shots=Path(shots) if shots else None
    )
    assert Company.objects.filter(name=walk.company).exists()
