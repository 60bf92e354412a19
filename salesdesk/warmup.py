"""What a web worker loads before it answers anyone (salesdesk.wsgi).

Django compiles a template, and reads a language's catalog, the first time a request needs
it, and the charts build plotly's default template on their first figure: a new worker's
first «Мои показатели» took ~80 ms instead of ~12, and at 18:00 every request queued behind
it waited as long (bench/first_request.py). Loaded here, they cost the worker's start
instead, and are frozen with the rest of the app (gc.freeze in salesdesk.wsgi).
"""

from pathlib import Path

from django.conf import settings
from django.template import engines
from django.utils import translation


def web_worker_warm() -> None:
    """Compiles every template of the project's template directories into each engine's
    cached loader, loads every language's catalog (activating a language reads it) and the
    charts' plotly template, and the release's fingerprint (the dashboard's poll carries
    it). Called once the app is set up (charts imports the models)."""
    from salesdesk import charts
    from salesdesk.release import release

    charts.figure([], {})
    release()
    for backend in engines.all():
        engine = getattr(backend, "engine", None)  # a Django engine; another has no loader cache
        if engine is None:
            continue
        for directory in map(Path, engine.dirs):
            for path in sorted(directory.rglob("*.html")):
                engine.get_template(path.relative_to(directory).as_posix())
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pass
