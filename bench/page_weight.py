"""«Мои показатели» loaded cold on a phone: scripts/bench page_weight [--runs 3].

Builds the manager of bench/my_page.py (five KPIs, two months of reports, so the page has
its trend chart), collects the static files as the image does (hashed, gzip and brotli),
serves the app with gunicorn and DEBUG off, logs in, and opens /my/ in Chromium as a phone:
375×740, a mobile user agent, the network throttled through CDP (1.6 Mbit/s down, 750 kbit/s
up, 150 ms round trip) and the CPU slowed 4×. Every run is a new browser context: an empty
cache, the session cookie copied in.

Prints one name=value line per figure (the median of the runs) on stdout: bytes transferred
(encoded, headers included) in all and for plotly.js, the requests, and the times from the
navigation's start to DOMContentLoaded, to the load event and to every chart drawn (a trace
in each [data-figure]). Progress goes to stderr.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/ is the script's directory, so its siblings are importable as is.
import rollup
from load import free_port, start, stop, wait_healthy
from my_page import PASSWORD, build
from rollup import emit, log

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 375, "height": 740}
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
# DevTools' "Fast 3G" bandwidth with a 150 ms round trip; throughput in bytes a second.
NETWORK = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6e6 / 8,
    "uploadThroughput": 750e3 / 8,
}
CPU_SLOWDOWN = 4
# Records when every chart on the page has a trace drawn (plotly draws after the load event
# when its script comes late); injected by the browser before the page's own scripts run.
CHARTS_DRAWN = """
new MutationObserver(function (records, observer) {
  var charts = document.querySelectorAll("[data-figure]");
  var drawn = Array.prototype.every.call(charts, function (chart) {
    return chart.querySelector(".main-svg .trace");
  });
  if (charts.length && drawn) {
    window.__chartsDrawn = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def collect_static() -> None:
    log("collectstatic (hashed names, gzip and brotli, as the image builds them)")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )


def log_in(browser: Any, host: str, username: str) -> list[dict]:
    """The session cookies of `username`, logged in through the form of a throwaway context."""
    context = browser.new_context(viewport=VIEWPORT, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{host}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    cookies = context.cookies()
    context.close()
    return cookies


def cold_load(browser: Any, host: str, cookies: list[dict], path: str) -> dict[str, Any]:
    context = browser.new_context(
        viewport=VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=USER_AGENT,
        locale="ru-RU",
    )
    context.add_cookies(cookies)
    context.add_init_script(CHARTS_DRAWN)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    urls: dict[str, str] = {}
    encodings: dict[str, str] = {}
    sizes: dict[str, int] = {}

    def received(event: dict) -> None:
        response = event["response"]
        urls[event["requestId"]] = response["url"]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        encodings[event["requestId"]] = headers.get("content-encoding", "identity")

    def finished(event: dict) -> None:
        sizes[event["requestId"]] = int(event["encodedDataLength"])

    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    response = page.goto(f"{host}{path}", wait_until="load", timeout=120_000)
    if response is None or response.status != 200:
        sys.exit(f"bench: GET {path} answered {response and response.status}")
    # Polled through CDP: wait_for_function's string would be an eval the page's CSP refuses.
    deadline = time.monotonic() + 120
    while page.evaluate("window.__chartsDrawn") is None:
        if time.monotonic() > deadline:
            state = page.evaluate(
                """() => [...document.querySelectorAll("[data-figure]")].map(
                    (chart) => chart.innerHTML.slice(0, 300))"""
            )
            sys.exit(f"bench: the charts were not drawn in 120 s: {state} {console}")
        page.wait_for_timeout(50)
    timing = page.evaluate(
        """() => {
        const nav = performance.getEntriesByType("navigation")[0];
        return {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                charts: window.__chartsDrawn,
                charts_count: document.querySelectorAll("[data-figure]").length};
        }"""
    )
    plotly = [key for key, url in urls.items() if "/plotly/" in url]
    result = {
        "bytes": sum(sizes.values()),
        "requests": len(sizes),
        "plotly_bytes": sum(sizes.get(key, 0) for key in plotly),
        "plotly_encoding": ",".join(encodings[key] for key in plotly) or "none",
        "dcl_ms": timing["dcl"],
        "load_ms": timing["load"],
        "charts_ms": timing["charts"],
        "charts": timing["charts_count"],
    }
    context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold loads (the median is printed)")
    parser.add_argument(
        "--no-collect", action="store_true", help="serve staticfiles/ as it is (already collected)"
    )
    args = parser.parse_args()
    rollup.serve_like_production("page_weight")
    # The production storage: hashed names, compressed files, whitenoise's cache headers.
    del os.environ["STATICFILES_BACKEND"]
    from playwright.sync_api import sync_playwright

    if not args.no_collect:
        collect_static()
    log("building the manager's company")
    manager = build(datetime.datetime.now(rollup.MOSCOW).date())
    work = Path(tempfile.mkdtemp(prefix="salesdesk-page-weight-"))
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    web = start(
        [sys.executable, "-m", "gunicorn", "salesdesk.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "120"],
        env, work / "gunicorn.log",
    )  # fmt: skip
    try:
        wait_healthy(f"{host}/healthz", web)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            cookies = log_in(browser, host, manager.username)
            runs = []
            for number in range(args.runs):
                runs.append(cold_load(browser, host, cookies, "/my/"))
                log(f"run {number + 1}: {runs[-1]}")
            browser.close()
    finally:
        stop(web)
    emit("network", "1.6Mbit/s down, 150ms RTT, CPU 4x slower, 375x740 mobile")
    emit("runs", len(runs))
    emit("charts", runs[0]["charts"])
    emit("plotly_encoding", runs[0]["plotly_encoding"])
    for name in ("bytes", "requests", "plotly_bytes"):
        emit(f"my_{name}", int(statistics.median(run[name] for run in runs)))
    for name in ("dcl_ms", "load_ms", "charts_ms"):
        emit(f"my_{name}", float(statistics.median(run[name] for run in runs)))


if __name__ == "__main__":
    main()
