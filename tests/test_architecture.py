"""The shape of the code (ADR 0009), counted over the source: endpoints raise and let their face render; request
plumbing comes from dependencies; no two registry subpackages import each other."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUTE_METHODS = {"get", "post", "put", "delete", "patch", "head", "options", "api_route", "websocket"}


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _endpoints():
    """Every function registered as a route: decorated with ``<router>.<method>(...)``."""
    for path, tree in _modules("faces"):
        for node in ast.walk(tree):
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_METHODS
                for d in node.decorator_list
            ):
                yield path, node


def test_the_faces_have_endpoints_to_count():
    assert len(list(_endpoints())) >= 50


def test_no_endpoint_renders_an_error_itself():
    """An ``except`` inside an endpoint may add to an error and raise it again; answering from it is the face's
    renderer's job."""
    rendering = [
        f"{path.relative_to(ROOT)}:{handler.lineno} ({function.name})"
        for path, function in _endpoints()
        for handler in ast.walk(function)
        if isinstance(handler, ast.ExceptHandler) and any(isinstance(n, ast.Return) for n in ast.walk(handler))
    ]
    assert rendering == []


def test_no_module_with_routes_reads_the_application_state():
    readers = []
    for path, tree in _modules("faces"):
        defines_routes = any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "APIRouter"
            for n in ast.walk(tree)
        )
        if defines_routes:
            readers += [
                f"{path.relative_to(ROOT)}:{n.lineno}"
                for n in ast.walk(tree)
                if isinstance(n, ast.Attribute)
                and n.attr == "state"
                and isinstance(n.value, ast.Attribute)
                and n.value.attr == "app"
            ]
    assert readers == []


def test_no_two_registry_subpackages_import_each_other():
    imports: dict[str, set[str]] = defaultdict(set)
    for path, tree in _modules("registry"):
        parts = path.relative_to(ROOT / "registry").with_suffix("").parts
        source = parts[0] if len(parts) > 1 else None  # modules directly under registry/ belong to no subpackage
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("registry."):
                target = node.module.split(".")[1]
                if source is not None and target != source and (ROOT / "registry" / target).is_dir():
                    imports[source].add(target)
    both_ways = sorted(
        {tuple(sorted((a, b))) for a, targets in imports.items() for b in targets if a in imports.get(b, set())}
    )
    assert len(imports) >= 8, imports  # the count looks at real code
    assert both_ways == []
