"""gunicorn hooks for bench/load.py: each worker adds up the CPU time its requests took, by
kind, and writes it to $BENCH_CPU_DIR/<pid>.json when it exits (bench/load.py sums them into
cpu_ms_<kind> lines: what each request costs the web server, apart from PostgreSQL).

With $BENCH_PROFILE set (`scripts/bench load --profile`) each worker also runs cProfile (on
CPU time, not the wall clock) around every request, one profile per kind, and writes them to
$BENCH_CPU_DIR/<pid>.<kind>.prof; bench/load.py merges them into profile_<kind>.txt. cProfile
adds its own cost to every call: compare shares within such a run, not its cpu_ms lines."""

import cProfile
import json
import os
import time
from collections import defaultdict
from pathlib import Path

_spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_started: dict[str, float] = {}
_profiles: dict[str, cProfile.Profile] = {}
_profiling = bool(os.environ.get("BENCH_PROFILE"))


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
    if _profiling:
        _profiles.setdefault(_kind(req), cProfile.Profile(time.process_time)).enable()
    _started["at"] = time.process_time()


def post_request(worker, req, environ, resp) -> None:
    kind = _kind(req)
    seconds = time.process_time() - _started.pop("at", time.process_time())
    kinds = [kind]
    if kind == "dashboard_poll" and getattr(resp, "status_code", None) == 204:
        kinds.append("dashboard_poll_204")  # of them, those answered "nothing changed"
    for name in kinds:
        _spent[name][0] += 1
        _spent[name][1] += seconds
    if _profiling and kind in _profiles:
        _profiles[kind].disable()


def worker_exit(server, worker) -> None:
    directory = os.environ.get("BENCH_CPU_DIR")
    if directory:
        Path(directory, f"{worker.pid}.json").write_text(json.dumps(dict(_spent)))
        for kind, profile in _profiles.items():
            profile.dump_stats(Path(directory, f"{worker.pid}.{kind}.prof"))
