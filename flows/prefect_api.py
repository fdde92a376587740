"""Which Prefect API `newsdesk run` talks to: PREFECT_API_URL, else a local server that answers, else in-process.

Prefect's in-process API server costs every command 10-20 s of start-up here; a server
started with `make server` (or `prefect server start`) answers in milliseconds. So
without PREFECT_API_URL, `newsdesk run` first asks the local address configured for the
server (prefect.toml's [server.api], 127.0.0.1:4200, or PREFECT_SERVER_API_HOST/PORT)
for its health, with a time-out well under a second, and uses it when it answers.
`prefect_server = "in-process"` (NEWSDESK_PREFECT_SERVER) turns the check off.
"""

from __future__ import annotations

import os

from flows.settings import Settings, local_server_address, prefect_api_url

HEALTH_TIMEOUT_S = 0.3


def server_answers(api_url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> bool:
    """True when a Prefect API at `api_url` answers its health check within `timeout_s`."""
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def choose_api(settings: Settings) -> tuple[str | None, str]:
    """(the API URL to use, or None for in-process; how to say it). Sets PREFECT_API_URL on a detected server.

    Call before Prefect is imported: its settings are read once, at import.
    """
    configured = prefect_api_url()
    if configured:
        return configured, f"Prefect server {configured}"
    if settings.prefect_server != "auto":
        return None, "Prefect, in-process"
    address = local_server_address()
    if server_answers(address):
        os.environ["PREFECT_API_URL"] = address
        return address, f"the Prefect server found at {address}; set PREFECT_API_URL to choose another"
    return None, f"Prefect, in-process: no server answered at {address}"


def run_link(api_url: str, flow_run_id: str) -> str:
    """The run's page in the Prefect UI served next to `api_url`."""
    base = os.environ.get("PREFECT_UI_URL") or api_url.rstrip("/").removesuffix("/api")
    return f"{base}/runs/flow-run/{flow_run_id}"
