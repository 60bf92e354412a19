"""gunicorn hooks for bench/load.py: each worker adds up the CPU time its requests took, by
kind, and writes it to $BENCH_CPU_DIR/<pid>.json when it exits (bench/load.py sums them into
cpu_ms_<kind> lines: what each request costs the web server, apart from PostgreSQL)."""

import json
import os
import time
from collections import defaultdict
from pathlib import Path

_spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_started: dict[str, float] = {}


def _kind(req) -> str:
    path, method = req.path, req.method
    headers = {name.lower(): value for name, value in req.headers}
    if path.startswith("/dashboard/"):
        return "dashboard_poll" if headers.get("hx-trigger") == "figures" else "dashboard_page"
    if path.startswith("/report/"):
        return "submit" if method == "POST" else "form"
    if path.startswith("/my/"):
        return "my_kpis"
    return "other"


def pre_request(worker, req) -> None:
    _started["at"] = time.process_time()


def post_request(worker, req, environ, resp) -> None:
    spent = _spent[_kind(req)]
    spent[0] += 1
    spent[1] += time.process_time() - _started.pop("at", time.process_time())


def worker_exit(server, worker) -> None:
    directory = os.environ.get("BENCH_CPU_DIR")
    if directory:
        Path(directory, f"{worker.pid}.json").write_text(json.dumps(dict(_spent)))
