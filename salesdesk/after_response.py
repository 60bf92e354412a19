"""Work a request does for others, done once its own response has gone.

A report's submission queues its company's rollup and turns the figures versions that the
open dashboards poll (rollups.services) when its transaction commits: a Celery publish and
a cache write, about a sixth of the submission's CPU at the 18:00 peak, which the manager
waited for (and on the embedded profile, Celery eager, the whole rollup). Handed to
`after_response`, they run when the WSGI server closes the response (Django's
`request_finished`): the browser has the whole answer, and the worker does them before it
takes the next request. Outside a request (a Celery task, a command, a test calling a
service) they run at once, as before.

What is deferred must not need the request's transaction (it has ended) and must be safe to
lose with a worker killed in between: the rollup's marks are committed, and `sweep_stale`
queues it within a minute.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished, request_started

logger = logging.getLogger(__name__)

# The current request's deferred work; None outside a request.
_pending: ContextVar[list[Callable[[], object]] | None] = ContextVar(
    "salesdesk_after_response", default=None
)


def after_response(function: Callable[[], object]) -> None:
    """Runs `function` once the current request's response has been sent; now outside one."""
    pending = _pending.get()
    if pending is None:
        function()
    else:
        pending.append(function)


def _request_started(**kwargs: object) -> None:
    _pending.set([])


def _request_finished(**kwargs: object) -> None:
    pending = _pending.get()
    _pending.set(None)
    for function in pending or ():
        try:
            function()
        except Exception:  # after the response nobody is left to tell: the log is
            logger.exception("after_response: %r failed", function)


request_started.connect(_request_started, dispatch_uid="salesdesk.after_response.started")
request_finished.connect(_request_finished, dispatch_uid="salesdesk.after_response.finished")
