"""The error classes are the single source of the error catalogue: docs/errors.md follows them, every name belongs
to one class (and its subclasses), the contexts raise named classes only, and each kind's HTTP status is the one every
face answers it with."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from faces.business.render import SNMS_CODES
from faces.handle_rest.render import HANDLE_CODES
from foundation.errors import DomainError, Kind
from node import error_catalogue

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = ("registry", "resolver", "sync", "foundation", "faces", "node")


def test_docs_errors_md_follows_the_classes():
    assert error_catalogue.DOCUMENT.read_text(encoding="utf-8") == error_catalogue.render(), (
        "docs/errors.md is out of date: run python -m node.error_catalogue"
    )
    assert error_catalogue.main(["--check"]) == 0


def test_check_fails_when_the_document_differs(tmp_path):
    stale = tmp_path / "errors.md"
    stale.write_text(error_catalogue.render().replace("prefix.taken", "prefix.gone"), encoding="utf-8")
    assert error_catalogue.main(["--check", "--output", str(stale)]) == 1


def test_each_name_is_declared_by_one_class():
    errors = error_catalogue.named_errors()
    assert len(errors) > 150
    declared = Counter(cls.name for cls in errors if "name" in vars(cls))
    assert [name for name, count in declared.items() if count > 1] == []
    for cls in errors:  # a class that shares a name inherits it from the class that declares it
        owner = next(base for base in cls.__mro__ if "name" in vars(base))
        assert not owner.generic, f"{cls.__name__} has no name of its own (it inherits {owner.__name__}'s)"


def test_status_is_the_kind_s_and_every_face_table_agrees():
    for cls in error_catalogue.named_errors():
        assert cls.status == cls.kind.status, cls
    for kind in Kind:
        assert HANDLE_CODES[kind][1] == kind.status, kind
        assert SNMS_CODES.get(kind, (-2, 400))[1] == kind.status, kind


def _error_class_names() -> set[str]:
    names, pending = set(), [DomainError]
    error_catalogue.named_errors()  # imports every errors module
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def test_contexts_raise_named_classes_without_name_or_kind_keywords():
    classes = _error_class_names()
    offences: set[str] = set()
    for package in CONTEXTS:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                call = node.exc if isinstance(node, ast.Raise) else node
                if not isinstance(call, ast.Call) or not {k.arg for k in call.keywords} & {"name", "kind"}:
                    continue
                callee = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
                if isinstance(node, ast.Raise) or callee in classes:
                    offences.add(f"{where}:{call.lineno} {callee}(name=/kind=…)")
    assert not offences, "raise a named class from the context's errors.py instead:\n" + "\n".join(sorted(offences))


def test_nothing_raises_a_generic_base():
    """A generic base (``NotFound``, ``InvalidRequest``, …) only gives a kind: what is raised has a name of its own."""
    error_catalogue.named_errors()
    generic, pending = set(), [DomainError]
    while pending:
        cls = pending.pop()
        if cls.generic:
            generic.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    offences = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.exc.func.id}"
        for package in CONTEXTS
        for path in sorted((ROOT / package).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
        and node.exc.func.id in generic
    ]
    assert len(generic) >= 10
    assert offences == []
