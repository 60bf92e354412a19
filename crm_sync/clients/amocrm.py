"""amoCRM / Kommo REST API v4 (long-lived token, `Authorization: Bearer`)."""

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from crm_sync.clients.base import CRMError, CRMHttp

PAGE_SIZE = 250
CALL_NOTE_TYPES = ("call_in", "call_out")
# The two system statuses every amoCRM pipeline ends in.
WON_STATUS, LOST_STATUS = 142, 143


class AmoCRMClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        requests_per_second: float = 7,
        **http: Any,
    ) -> None:
        self.http = CRMHttp(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            requests_per_second=requests_per_second,
            **http,
        )

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: list[tuple[str, Any]]) -> dict:
        response = self.http.request("GET", path, params=params)
        if response.status_code == 204:  # amoCRM's "nothing matches"
            return {}
        if response.status_code in (401, 403):
            raise CRMError(
                _("amoCRM не принимает ключ доступа (HTTP %(status)s).")
                % {"status": response.status_code}
            )
        if response.status_code != 200:
            raise CRMError(
                _("amoCRM ответила HTTP %(status)s на %(path)s.")
                % {"status": response.status_code, "path": path}
            )
        return response.json()

    def _pages(self, path: str, key: str, params: list[tuple[str, Any]]) -> Iterator[list[dict]]:
        """Follows `_links.next` by page number: its href names the real portal, not ours."""
        page = 1
        while True:
            body = self._get(path, [*params, ("limit", PAGE_SIZE), ("page", page)])
            items = body.get("_embedded", {}).get(key, [])
            if items:
                yield items
            if not items or "next" not in body.get("_links", {}):
                return
            page += 1

    def leads_updated(self, *, since: int | None) -> Iterator[list[dict]]:
        params: list[tuple[str, Any]] = [("with", "contacts"), ("order[updated_at]", "asc")]
        if since is not None:
            params.append(("filter[updated_at][from]", since))
        return self._pages("/api/v4/leads", "leads", params)

    def leads_by_id(self, ids: list[str]) -> list[dict]:
        params: list[tuple[str, Any]] = [("with", "contacts")]
        params += [("filter[id][]", lead_id) for lead_id in ids]
        return [lead for page in self._pages("/api/v4/leads", "leads", params) for lead in page]

    def contacts_by_id(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        params = [("filter[id][]", contact_id) for contact_id in ids]
        pages = self._pages("/api/v4/contacts", "contacts", params)
        return [contact for page in pages for contact in page]

    def call_notes_updated(self, *, since: int | None) -> Iterator[list[dict]]:
        """Call notes on contacts, where telephony integrations put them."""
        params: list[tuple[str, Any]] = [("filter[note_type][]", kind) for kind in CALL_NOTE_TYPES]
        params.append(("order[updated_at]", "asc"))
        if since is not None:
            params.append(("filter[updated_at][from]", since))
        return self._pages("/api/v4/contacts/notes", "notes", params)

    def users(self) -> list[dict]:
        return [user for page in self._pages("/api/v4/users", "users", []) for user in page]


def contact_phone(contact: dict) -> str:
    for field in contact.get("custom_fields_values") or []:
        if field.get("field_code") == "PHONE" and field.get("values"):
            return str(field["values"][0].get("value", ""))
    return ""
