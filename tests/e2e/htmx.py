"""Waiting for htmx in the browser, for the flows that act on content it has just swapped."""

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def settled(page) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Waits, after the block, until htmx has swapped the answer in and wired up the new
    content: a change made before that (htmx settles 20 ms after the swap) reaches no
    listener and is lost."""
    page.evaluate(
        """() => { window.htmxSettled = false;
        document.body.addEventListener("htmx:afterSettle", () => { window.htmxSettled = true },
            {once: true}) }"""
    )
    yield
    page.wait_for_function("() => window.htmxSettled")
