"""Bitrix24 REST through an inbound webhook: https://<portal>/rest/<user>/<secret>/<method>.json"""

from collections.abc import Iterator
from typing import Any

import httpx
from django.utils.translation import gettext as _

from crm_sync.clients.base import CRMError, CRMHttp

DEAL_FIELDS = [
    "ID", "TITLE", "STAGE_ID", "STAGE_SEMANTIC_ID", "CATEGORY_ID", "OPPORTUNITY",
    "ASSIGNED_BY_ID", "CONTACT_ID", "SOURCE_ID", "DATE_CREATE", "DATE_MODIFY", "CLOSED",
    "CLOSEDATE", "IS_RETURN_CUSTOMER",
]  # fmt: skip
LIMITED = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"}


def _limited(response: httpx.Response) -> bool:
    try:
        return response.json().get("error") in LIMITED
    except ValueError:
        return False


class Bitrix24Client:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_second: float = 2,
        **http: Any,
    ) -> None:
        self.token = token
        self.http = CRMHttp(
            base_url=base_url.rstrip("/") + "/", requests_per_second=requests_per_second, **http
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, params: dict[str, Any]) -> dict:
        response = self.http.request(
            "POST", f"{self.token}/{method}.json", json=params, is_limited=_limited
        )
        try:
            body = response.json()
        except ValueError as error:
            raise CRMError(
                _("Битрикс24 ответил HTTP %(status)s на %(method)s.")
                % {"status": response.status_code, "method": method}
            ) from error
        if "error" in body:
            detail = body.get("error_description", "")
            raise CRMError(
                _("Битрикс24 отказал в %(method)s: %(error)s %(detail)s")
                % {"method": method, "error": body["error"], "detail": detail}
            )
        return body

    def _pages(self, method: str, params: dict[str, Any]) -> Iterator[list[dict]]:
        """List methods give 50 rows a call; `next` is the offset of the following ones."""
        start = 0
        while True:
            body = self.call(method, {**params, "start": start})
            if body.get("result"):
                yield body["result"]
            if "next" not in body:
                return
            start = body["next"]

    def deals_updated(self, *, since: str | None) -> Iterator[list[dict]]:
        params: dict[str, Any] = {
            "order": {"DATE_MODIFY": "ASC", "ID": "ASC"},
            "select": DEAL_FIELDS,
            "filter": {">=DATE_MODIFY": since} if since else {},
        }
        return self._pages("crm.deal.list", params)

    def deals_by_id(self, ids: list[str]) -> list[dict]:
        params = {"select": DEAL_FIELDS, "filter": {"@ID": ids}}
        return [deal for page in self._pages("crm.deal.list", params) for deal in page]

    def contacts_by_id(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        params = {"select": ["ID", "NAME", "LAST_NAME", "PHONE"], "filter": {"@ID": ids}}
        return [item for page in self._pages("crm.contact.list", params) for item in page]

    def calls_since(self, *, since: str | None) -> Iterator[list[dict]]:
        params: dict[str, Any] = {
            "SORT": "CALL_START_DATE",
            "ORDER": "ASC",
            "FILTER": {">=CALL_START_DATE": since} if since else {},
        }
        return self._pages("voximplant.statistic.get", params)

    def users(self) -> list[dict]:
        return [user for page in self._pages("user.get", {}) for user in page]


def contact_phone(contact: dict) -> str:
    phones = contact.get("PHONE") or []
    return str(phones[0].get("VALUE", "")) if phones else ""


def contact_name(contact: dict) -> str:
    return " ".join(part for part in (contact.get("NAME"), contact.get("LAST_NAME")) if part)
