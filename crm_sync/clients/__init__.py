"""HTTP clients of the CRMs we pull from, over one rate-limited, retrying httpx session.

Each client speaks its vendor's REST dialect and returns plain dicts; mapping them onto
deals and calls is `crm_sync.connectors`' business.
"""
