"""A failing request leaves nothing written: the view runs in TenantMiddleware's transaction
(no savepoint of its own, ATOMIC_REQUESTS is off) and that transaction is rolled back when
the view raises or an API call is refused, while a request that succeeds keeps its writes."""

import pytest
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.views import APIView

import salesdesk.urls
from accounts import tenancy
from accounts.models import User

WRITTEN = "Записано"


def _write(request) -> None:
    User.objects.filter(pk=request.user.pk).update(first_name=WRITTEN)


@login_required
def write_then_refuse(request):
    _write(request)
    raise PermissionDenied("нельзя")


@login_required
def write_then_break(request):
    _write(request)
    raise RuntimeError("broken")


@login_required
def write(request):
    _write(request)
    return HttpResponse("ok")


class WriteThenInvalid(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request, pk):
        User.objects.filter(pk=pk).update(first_name=WRITTEN)
        raise serializers.ValidationError({"value": ["неверно"]})


urlpatterns = [
    path("test/refuse/", write_then_refuse),
    path("test/break/", write_then_break),
    path("test/write/", write),
    path("api/v1/test/invalid/<int:pk>/", WriteThenInvalid.as_view()),
    *salesdesk.urls.urlpatterns,
]


def first_name(cast) -> str:
    with tenancy.tenant_context(cast.company):
        return User.objects.get(pk=cast.manager.pk).first_name


@pytest.mark.urls(__name__)
def test_a_refused_or_broken_view_leaves_nothing_written(client, alpha):
    before = first_name(alpha)
    client.force_login(alpha.manager)
    assert client.get("/test/refuse/").status_code == 403  # the page is drawn as ever
    assert first_name(alpha) == before
    client.raise_request_exception = False
    assert client.get("/test/break/").status_code == 500
    assert first_name(alpha) == before


@pytest.mark.urls(__name__)
def test_a_refused_api_call_leaves_nothing_written(client, alpha):
    before = first_name(alpha)
    client.force_login(alpha.manager)  # the session's company: the call runs inside it
    response = client.post(f"/api/v1/test/invalid/{alpha.manager.pk}/")
    assert response.status_code == 400
    assert first_name(alpha) == before


@pytest.mark.urls(__name__)
def test_a_request_that_succeeds_keeps_its_writes(client, alpha):
    client.force_login(alpha.manager)
    assert client.get("/test/write/").status_code == 200
    assert first_name(alpha) == WRITTEN
