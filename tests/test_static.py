"""What the browser gets from static/: hashed files cached for a year and compressed, a
partial plotly.js that still has every trace type the charts draw, the favicon."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.templatetags.static import static
from django.test import RequestFactory, override_settings
from django.urls import reverse
from whitenoise.middleware import WhiteNoiseMiddleware

from tests.conftest import ROOT

PRODUCTION = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Only the project's own static/: the apps' (admin, Swagger UI) would take minutes to compress.
OWN_ONLY = ["django.contrib.staticfiles.finders.FileSystemFinder"]
PLOTLY = ROOT / "static" / "plotly" / "plotly-finance.min.js"


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION, STATICFILES_FINDERS=OWN_ONLY):
        call_command("collectstatic", "--noinput", "-v0", "--ignore", "plotly")
    return root


@pytest.fixture
def whitenoise(collected: Path) -> Iterator[WhiteNoiseMiddleware]:
    """The middleware as production runs it: DEBUG off, files from STATIC_ROOT only."""
    with override_settings(
        DEBUG=False,
        STATIC_ROOT=collected,
        STORAGES=PRODUCTION,
        STATICFILES_FINDERS=OWN_ONLY,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        yield WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))


def get(middleware: WhiteNoiseMiddleware, url: str, encodings: str = "") -> HttpResponse:
    return middleware(RequestFactory().get(url, HTTP_ACCEPT_ENCODING=encodings))


def test_it_caches_hashed_files_for_a_year(whitenoise):
    url = static("css/app.css")
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", url)
    response = get(whitenoise, url)
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache
    assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= 31536000


def test_it_revalidates_a_name_without_its_hash_soon(whitenoise):
    response = get(whitenoise, "/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1)) <= 60


@pytest.mark.parametrize(("accepts", "encoding"), [("gzip, deflate, br", "br"), ("gzip", "gzip")])
def test_it_compresses_what_the_browser_accepts(whitenoise, accepts, encoding):
    plain = get(whitenoise, static("js/charts.js"))
    response = get(whitenoise, static("js/charts.js"), accepts)
    assert response.headers["Content-Encoding"] == encoding
    assert int(response.headers["Content-Length"]) < int(plain.headers["Content-Length"])
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.django_db
def test_it_answers_favicon_ico_with_the_hashed_icon(whitenoise, client):
    redirect = client.get(reverse("favicon"))
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == static("favicon.ico")
    icon = get(whitenoise, redirect.headers["Location"])
    assert icon.status_code == 200
    assert "icon" in icon.headers["Content-Type"]
    assert "immutable" in icon.headers["Cache-Control"]


@pytest.mark.django_db
def test_every_page_links_the_icons(client, alpha):
    client.force_login(alpha.manager)
    page = client.get(reverse("home")).content.decode()
    assert f'<link rel="icon" href="{static("favicon.ico")}"' in page
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in page


def chart_trace_types() -> set[str]:
    """The `type` of every trace dict (one with "x" or "y") the apps' charts.py build."""
    types = set()
    for source in ROOT.glob("*/charts.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Dict):
                continue
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if "type" in keys and keys & {"x", "y"}:
                value = node.values[[getattr(k, "value", None) for k in node.keys].index("type")]
                types.add(value.value)
    return types


def test_the_vendored_plotly_draws_every_trace_type_the_charts_use():
    bundle = PLOTLY.read_text()
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    used = chart_trace_types()
    assert {"scatter", "bar", "funnel"} <= used  # the scan finds what the pages draw
    assert used <= registered, f"{used - registered} need a bigger bundle: scripts/vendor_plotly"
    # A partial bundle: the full one (4.8 MB) registers some 47 trace types.
    assert len(registered) < 15
    assert PLOTLY.stat().st_size < 1_500_000
