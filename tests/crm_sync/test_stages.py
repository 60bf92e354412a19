import pytest
from django.urls import reverse

from accounts import tenancy
from crm_sync.models import PipelineStage


def stages(cast) -> list[tuple[str, str]]:
    with tenancy.tenant_context(cast.company):
        return list(PipelineStage.objects.filter(company=cast.company).values_list("name", "kind"))


@pytest.mark.django_db
def test_the_admin_adds_renames_and_removes_a_stage(client, alpha):
    client.force_login(alpha.admin)
    added = client.post(
        reverse("stages"), {"name": "Тендер", "kind": "open", "position": "4", "external_id": "77"}
    )
    assert added.status_code == 302 and ("Тендер", "open") in stages(alpha)
    with tenancy.tenant_context(alpha.company):
        tender = PipelineStage.objects.get(company=alpha.company, name="Тендер")
    taken = client.post(
        reverse("stage-edit", args=[tender.code]),
        {"name": "Квалификация", "kind": "open", "position": "4", "external_id": ""},
    )
    assert "Этап «Квалификация» уже есть." in taken.content.decode()
    client.post(
        reverse("stage-edit", args=[tender.code]),
        {"name": "Тендер и аукцион", "kind": "open", "position": "4", "external_id": "77"},
    )
    assert ("Тендер и аукцион", "open") in stages(alpha)
    client.post(reverse("stage-delete", args=[tender.code]))
    assert "Тендер и аукцион" not in dict(stages(alpha))


@pytest.mark.django_db
def test_a_stage_with_deals_is_kept_and_strangers_are_refused(client, alpha, beta):
    with tenancy.tenant_context(alpha.company):
        busy = PipelineStage.objects.filter(company=alpha.company, deals__isnull=False).first()
    client.force_login(alpha.admin)
    response = client.post(reverse("stage-delete", args=[busy.code]), follow=True)
    assert "есть сделки" in response.content.decode()
    assert busy.name in dict(stages(alpha))
    client.force_login(beta.admin)
    assert client.get(reverse("stage-edit", args=[busy.code])).status_code == 404
    client.force_login(alpha.head)
    assert client.get(reverse("stage-edit", args=[busy.code])).status_code == 403
    assert client.get(reverse("stages")).status_code == 403
