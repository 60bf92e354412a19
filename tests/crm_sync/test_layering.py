"""crm_sync stores deals and calls; client analysis (`clients`) reads them. The imports run
one way, clients → crm_sync, so either can be read, tested and changed without the other's
import order in mind: crm_sync calls back through `crm_sync.hooks`, never by importing."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file names in an import, at any depth (a function's own imports too),
    relative ones made absolute, and the string given to `import_module`/`__import__`."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _app(name: str) -> str:
    return name.partition(".")[0]


def _sources(app: str) -> list[Path]:
    return sorted((ROOT / app).rglob("*.py"))


def test_crm_sync_never_imports_the_clients_app():
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _sources("crm_sync")
        for name in imports_of(path)
        if _app(name) == "clients"
    }
    assert not offending, sorted(offending)


def test_the_clients_app_reads_crm_sync():
    # The rule above is about a real edge: clients does import crm_sync.
    assert any(
        _app(name) == "crm_sync" for path in _sources("clients") for name in imports_of(path)
    )


def test_the_crm_http_clients_do_not_share_the_clients_apps_name():
    assert not (ROOT / "crm_sync" / "clients").exists()
    stale = {
        f"{path.relative_to(ROOT)} imports {name}"
        for app in ("crm_sync", "clients", "tests", "bench")
        for path in _sources(app)
        for name in imports_of(path)
        if name == "crm_sync.clients" or name.startswith("crm_sync.clients.")
    }
    assert not stale, sorted(stale)
