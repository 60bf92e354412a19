"""Clients for integrations: the clients whose deals the caller sees, with their ABC/XYZ class.

The client analysis pages' rule: heads of sales and admins (`require_lead`); a head sees the
clients of their teams' deals. Clients come from the CRM, a file or telephony; the pages do
not edit them, nor does the API (read only).
"""

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_common import (
    EXPAND,
    FIELDS,
    ManagerInViewField,
    OptionalManagerCodeField,
    cursor,
    page_answer,
    query,
)
from accounts.permissions import of_managers_in_view, require_lead
from clients import selectors
from clients.models import ClientClass
from crm_sync.models import Client, Deal


class ClientFilter(serializers.Serializer):
    manager = ManagerInViewField(
        required=False,
        help_text="clients with a deal of this manager; a manager you do not see is a 400",
    )
    abc = serializers.ChoiceField(
        choices=ClientClass.ABC.choices, required=False, help_text="ABC class, latest month"
    )
    xyz = serializers.ChoiceField(
        choices=ClientClass.XYZ.choices, required=False, help_text="XYZ class, latest month"
    )


class ClientOutput(serializers.ModelSerializer):
    manager = OptionalManagerCodeField(
        source="manager_code",
        allow_null=True,
        default=None,
        help_text="the manager of the client's latest deal",
    )
    abc = serializers.CharField(allow_null=True, default=None, help_text="latest ABC class")
    xyz = serializers.CharField(allow_null=True, default=None, help_text="latest XYZ class")
    class_month = serializers.DateField(
        allow_null=True, default=None, help_text="the month `abc` and `xyz` are of"
    )

    class Meta:
        model = Client
        fields = [
            "code", "name", "phone", "source", "external_id", "manager", "abc", "xyz",
            "class_month",
        ]  # fmt: skip


def clients_in_view(request: Request) -> QuerySet[Client]:
    """The clients of the deals the caller sees, with the latest deal's manager and class."""
    require_lead(request.user)
    company = request.user.company
    deals = of_managers_in_view(Deal.objects.filter(company=company), viewer=request.user)
    latest_deal = deals.filter(client_id=OuterRef("pk")).order_by("-created_at", "-id")
    months = selectors.stored_months(company=company)
    classes = ClientClass.objects.filter(
        company=company, client_id=OuterRef("pk"), month=months[0] if months else None
    )
    clients = (
        Client.objects.filter(company=company)
        .filter(Exists(deals.filter(client_id=OuterRef("pk"))))
        .annotate(
            manager_code=Subquery(latest_deal.values("manager__code")[:1]),
            abc=Subquery(classes.values("abc")[:1]),
            xyz=Subquery(classes.values("xyz")[:1]),
            class_month=Subquery(classes.values("month")[:1]),
        )
    )
    return clients


class ClientListApi(APIView):
    pagination_class = cursor("name", "id")

    @extend_schema(
        parameters=[ClientFilter, FIELDS, EXPAND],
        responses=ClientOutput(many=True),
        operation_id="clients_list",
        summary="Clients",
        description="Heads of sales and admins (as the client analysis pages): the clients "
        "with a deal of a manager you see, by name, with the manager of their latest deal "
        "and their ABC/XYZ class of the latest computed month. Pages of 100 (`?page_size=` "
        "up to 500) with a stable cursor: follow `next` until it is null. `?fields=` keeps "
        "the fields named, `?expand=manager` gives the manager's names.",
    )
    def get(self, request: Request) -> Response:
        clients = clients_in_view(request)
        filters = query(ClientFilter, request)
        if filters.get("manager"):
            clients = clients.filter(
                Exists(Deal.objects.filter(client_id=OuterRef("pk"), manager=filters["manager"]))
            )
        if filters.get("abc"):
            clients = clients.filter(abc=filters["abc"])
        if filters.get("xyz"):
            clients = clients.filter(xyz=filters["xyz"])
        return page_answer(self, request, clients.order_by("name", "id"), ClientOutput)


class ClientDetailApi(APIView):
    @extend_schema(
        responses=ClientOutput,
        operation_id="clients_retrieve",
        summary="A client",
        description="One client with a deal of a manager you see (another is not found), "
        "with the manager of their latest deal and their latest ABC/XYZ class.",
    )
    def get(self, request: Request, code: str) -> Response:
        client = clients_in_view(request).filter(code=code).first()
        if client is None:
            raise NotFound()
        return Response(ClientOutput(client).data)
