"""Which release of the code a process runs: a fingerprint of the app's own source files.

What a cache keeps across requests as rendered HTML (the dashboard's figures block) carries
it, so that a new release (a template, a tag, a translation) is never served the old one's
markup from a cache that outlived the deploy. Every process of one build (the image's
files) has the same fingerprint; a changed file turns it.
"""

import functools
import hashlib
import os

from django.conf import settings

# The files whose change can change what a page shows.
SUFFIXES = (".py", ".html", ".mo", ".js", ".css")
# Not the app's code: installed packages, collected static files, tests, benches, docs.
SKIPPED = {".git", ".venv", "__pycache__", "node_modules", "staticfiles", "media", "tests",
           "bench", "docs", "scripts", "test-artifacts"}  # fmt: skip


def release() -> str:
    """The fingerprint: each source file's path, size and modification time, hashed: one
    walk of the project's tree per process (~12 ms), or per call with DEBUG on, where a
    template edited under runserver shows at the next load without a restart."""
    return _fingerprint() if settings.DEBUG else _fingerprint_once()


@functools.cache
def _fingerprint_once() -> str:
    return _fingerprint()


def _fingerprint() -> str:
    digest = hashlib.blake2b(digest_size=8)
    root = str(settings.BASE_DIR)
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in SKIPPED and not f.startswith("."))
        for name in sorted(files):
            if not name.endswith(SUFFIXES):
                continue
            path = os.path.join(directory, name)
            try:
                found = os.stat(path)
            except OSError:  # removed while walking: the next process sees the tree as it is
                continue
            name = os.path.relpath(path, root)
            digest.update(f"{name}:{found.st_size}:{found.st_mtime_ns};".encode())
    return digest.hexdigest()
