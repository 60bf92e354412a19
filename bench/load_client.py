"""The browsers of bench/load.py: locust users, run headless as a library.

python bench/load_client.py PLAN.json RESULT.json — the plan (written by bench/load.py)
names the host, every manager's session, figures and moment, and every head's session.
Managers open today's report, type for a few seconds, submit it, follow the redirect to
their page and leave; heads open the dashboard and keep polling its figures as HTMX does
until the last manager is done, sending back the state the block shows as htmx does (an
unchanged one is answered 204). Writes the counts and latencies to RESULT.json.
"""

import http.cookiejar
import itertools
import json
import math
import random
import re
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

PLAN: dict[str, Any] = json.loads(Path(sys.argv[1]).read_text())
HOST = PLAN["host"].removeprefix("http://").split(":")[0]
POLL_HEADERS = {
    "HX-Request": "true",
    "HX-Target": "figures",
    "HX-Trigger": "figures",
    "HX-Current-URL": f"{PLAN['host']}/dashboard/",
}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d*)"')
# The figures block's hx-headers: htmx sends the state it shows back with each poll.
STATE = re.compile(r"X-Figures-State&quot;: &quot;([0-9a-f]+)&quot;")

latencies: dict[str, list[float]] = defaultdict(list)
by_minute: dict[str, dict[int, list[float]]] = defaultdict(dict)  # of the peak
counts = {
    "sent": 0, "accepted": 0, "confirmed": 0, "errors_5xx": 0, "errors_other": 0,
    "polls_unchanged": 0,
}  # fmt: skip
moments = {"first_sent_at": math.inf, "last_accepted_at": 0.0}
accepted: list[int] = []  # the managers whose report the app confirmed
managers = iter(PLAN["managers"])
heads = iter(PLAN["heads"])
managers_left = len(PLAN["managers"])


@events.request.add_listener
def on_request(name: str, response_time: float, response: Any, exception: Any, **_: Any) -> None:
    # Errors count wherever they happen, the warm-up included.
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        counts["errors_5xx"] += 1
    elif exception or status >= 400:
        counts["errors_other"] += 1
    started = time.time() - response_time / 1000
    if started < PLAN["start_at"]:
        # Heads opening their dashboards before the peak: its requests, not its latencies.
        latencies[f"warmup_{name}"].append(response_time)
        return
    latencies[name].append(response_time)
    minute = int((started - PLAN["start_at"]) // 60)
    by_minute[name].setdefault(minute, []).append(response_time)


def with_session(user: FastHttpUser, key: str) -> None:
    cookie = http.cookiejar.Cookie(
        0, "sessionid", key, None, False, HOST, False, False, "/", True, False, None, True,
        None, None, {},
    )  # fmt: skip
    user.client.cookiejar.set_cookie(cookie)


class Manager(FastHttpUser):
    fixed_count = len(PLAN["managers"])
    wait_time = constant(0)

    def on_start(self) -> None:
        self.plan = next(managers)
        with_session(self, self.plan["session"])

    @task
    def report(self) -> None:
        global managers_left
        try:
            gevent.sleep(max(0.0, PLAN["start_at"] + self.plan["offset"] - time.time()))
            self.submit()
        finally:
            managers_left -= 1
        raise StopUser

    def submit(self) -> None:
        url = f"/report/{PLAN['day']}/"
        with self.client.get(url, name="form", catch_response=True) as page:
            if page.status_code != 200 or 'name="version"' not in (page.text or ""):
                page.failure(f"no report form: {page.status_code}")
                return
            html = page.text
        gevent.sleep(random.uniform(2, 6))  # typing
        form = {
            "csrfmiddlewaretoken": CSRF.search(html).group(1),
            "version": VERSION.search(html).group(1),
            **self.plan["figures"],
        }
        counts["sent"] += 1
        moments["first_sent_at"] = min(moments["first_sent_at"], time.time())
        for attempt in range(2):
            with self.client.post(
                url, data=form, name="submit", allow_redirects=False, catch_response=True
            ) as answer:
                if answer.status_code == 302 and answer.headers.get("Location") == "/my/":
                    counts["accepted"] += 1
                    accepted.append(self.plan["id"])
                    moments["last_accepted_at"] = max(moments["last_accepted_at"], time.time())
                    break
                if answer.status_code == 200 and 'name="confirm"' in (answer.text or ""):
                    # Asked whether an unusual figure is right: tick "yes" and send again.
                    counts["confirmed"] += attempt == 0
                    form["confirm"] = "yes"
                    continue
                answer.failure(f"not accepted: {answer.status_code}")
                return
        else:
            return
        self.client.get("/my/", name="my_kpis")


class Head(FastHttpUser):
    fixed_count = len(PLAN["heads"])
    wait_time = constant(PLAN["poll_seconds"])

    def on_start(self) -> None:
        with_session(self, next(heads))
        self.polls = itertools.count(1)
        self.state = ""
        # At the peak every head has had the dashboard open for a while: each opened it at
        # its own moment of the page period before the first report is due.
        warmup = PLAN["poll_seconds"] * PLAN["page_every"]
        opened_at = PLAN["start_at"] - random.uniform(0, warmup)
        gevent.sleep(max(0.0, opened_at - time.time()))
        self.page()

    def page(self) -> None:
        with self.client.get("/dashboard/", name="dashboard_page", catch_response=True) as page:
            self.remember(page)

    def remember(self, answer: Any) -> None:
        """The state of the figures block now shown, as htmx keeps it (204: unchanged)."""
        if answer.status_code == 204:
            return
        found = STATE.search(answer.text or "") if answer.status_code == 200 else None
        if found is None:
            answer.failure(f"no figures block: {answer.status_code}")
            return
        self.state = found.group(1)

    @task
    def poll(self) -> None:
        if next(self.polls) % PLAN["page_every"] == 0:
            self.page()
            return
        headers = {**POLL_HEADERS, "X-Figures-State": self.state}
        with self.client.get(
            "/dashboard/", name="dashboard_poll", headers=headers, catch_response=True
        ) as poll:
            self.remember(poll)
            counts["polls_unchanged"] += poll.status_code == 204


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def main() -> None:
    environment = Environment(user_classes=[Manager, Head], host=PLAN["host"], events=events)
    runner = environment.create_local_runner()
    started = time.time()
    users = len(PLAN["managers"]) + len(PLAN["heads"])
    runner.start(users, spawn_rate=max(100, users / 10))
    last_due = PLAN["start_at"] + max((m["offset"] for m in PLAN["managers"]), default=0)
    deadline = last_due + PLAN["grace_s"]
    while managers_left and time.time() < deadline:
        gevent.sleep(0.5)
    runner.quit()
    wall = time.time() - max(started, PLAN["start_at"])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    latencies["dashboard"] = latencies["dashboard_page"] + latencies["dashboard_poll"]
    for name in ("dashboard_page", "dashboard_poll"):
        for minute, values in by_minute[name].items():
            by_minute["dashboard"].setdefault(minute, []).extend(values)
    total = sum(
        len(values) for name, values in latencies.items() if not name.startswith("warmup_")
    ) - len(latencies["dashboard"])
    result = {
        **counts,
        **moments,
        "latency": {
            name: {
                "count": len(values),
                "p50": round(percentile(values, 0.5), 1),
                "p95": round(percentile(values, 0.95), 1),
                "max": round(max(values), 1),
            }
            for name, values in latencies.items()
            if values
        },
        "p95_by_minute": {
            name: [round(percentile(minutes[m], 0.95), 1) for m in sorted(minutes)]
            for name, minutes in by_minute.items()
        },
        "requests_per_s": round(total / wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "wall_s": round(wall, 1),
        "managers_unfinished": managers_left,
        "accepted_ids": accepted,
    }
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
