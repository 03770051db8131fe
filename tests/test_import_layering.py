"""The import layering of prelib: the data's one-way flow, function-level imports included.

conventions / config / paths → sim, readers → data, writers → models, metrics, baselines →
training → workflow → inference, evaluation, downscaling → plotting → notebook helpers, pipeline,
CLI.

A module may import its own layer and the layers below it, never a layer above. ``*.commands``
modules are command-line entry points and sit in the top layer wherever they live. Every
``import`` statement counts, at module level or inside a function; the exceptions are listed in
:data:`ALLOWED` with the reason, so that each one is a decision rather than an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import prelib

PACKAGE_DIR = Path(prelib.__file__).resolve().parent

LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "",
            "conventions",
            "config",
            "paths",
            "runtime",
            "atomic",
            "errors",
            "validation",
            "profiles",
        }
    ),
    frozenset({"sim", "readers"}),
    frozenset({"data", "writers"}),
    frozenset({"models", "metrics", "baselines"}),
    frozenset({"training"}),
    frozenset({"workflow"}),
    frozenset({"inference", "evaluation", "downscaling"}),
    frozenset({"plotting"}),
    frozenset({"notebook", "explore", "pipeline", "cli", "__main__"}),
)
"""Room names (``prelib.<room>``) per layer, bottom first; ``""`` is the package root."""

FORBIDDEN_WITHIN: tuple[tuple[str, str, str], ...] = (
    ("sim", "data", "the synthetic world knows nothing of benchmarks or datasets"),
    ("metrics", "models", "scores are computed on arrays, whatever produced them"),
    ("plotting", "training", "figures take results, not training code"),
    ("inference", "training", "inference loads networks through prelib.workflow.networks"),
    ("evaluation", "training", "evaluation gets networks from prelib.workflow"),
)
"""``(importer room, imported room, why)`` pairs forbidden even where the layers would allow."""

ALLOWED: dict[tuple[str, str], str] = {
    # prelib.config.resolve is the one function that composes every area's section; its
    # function-level imports run only at entry points (CLI, notebook setup, pipeline, session).
    ("prelib.config", "prelib.data"): "resolve() composes the sections",
    ("prelib.config", "prelib.models"): "resolve() composes the sections",
    ("prelib.config", "prelib.training"): "resolve() composes the sections",
    ("prelib.config", "prelib.evaluation"): "resolve() composes the sections",
    ("prelib.config", "prelib.downscaling"): "resolve() composes the sections",
    # `prelib simulate build` builds benchmarks from the sim package's command module; it moves
    # with the builders (issue 14 §3). Entry point, so only the sim-never-imports-data rule bites.
    ("prelib.sim.commands", "prelib.data"): "simulate build moves with the builders",
}
"""``(importing module, imported room)`` exceptions, each with its reason."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    if module.split(".")[-1] == "commands":
        return len(LAYERS) - 1  # command-line entry points
    room = _room(module)
    for index, rooms in enumerate(LAYERS):
        if room in rooms:
            return index
    raise AssertionError(f"{module}: room {room!r} has no layer; add it to LAYERS")


def _imports(path: Path) -> list[tuple[str, int]]:
    """``(imported prelib module, line)`` of every import statement, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("prelib")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "prelib":  # from prelib import x: x may be a room or an attribute
                for alias in node.names:
                    candidate = PACKAGE_DIR / alias.name
                    is_room = candidate.is_dir() or candidate.with_suffix(".py").is_file()
                    found.append((f"prelib.{alias.name}" if is_room else "prelib", node.lineno))
            elif node.module.startswith("prelib."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}:{node.lineno}: relative import; use absolute imports")
    return found


MODULES = sorted(PACKAGE_DIR.rglob("*.py"))


def _violations() -> list[str]:
    problems = []
    for path in MODULES:
        importer = _module_name(path)
        for imported, line in _imports(path):
            room = f"prelib.{_room(imported)}" if _room(imported) else "prelib"
            if (importer, room) in ALLOWED:
                continue
            where = f"{path.relative_to(PACKAGE_DIR.parent)}:{line}"
            if _layer(imported) > _layer(importer):
                problems.append(f"{where}: {importer} imports {imported} (a layer above)")
            for low, high, why in FORBIDDEN_WITHIN:
                if _room(importer) == low and _room(imported) == high:
                    if importer.split(".")[-1] != "commands" or low == "sim":
                        problems.append(f"{where}: {importer} imports {imported} ({why})")
    return problems


def test_every_room_has_a_layer():
    for path in MODULES:
        _layer(_module_name(path))


def test_no_module_imports_a_layer_above_it():
    problems = _violations()
    assert not problems, "\n".join(problems)


def test_the_allow_list_has_no_stale_entries():
    used = set()
    for path in MODULES:
        importer = _module_name(path)
        for imported, _ in _imports(path):
            used.add((importer, f"prelib.{_room(imported)}"))
    stale = sorted(set(ALLOWED) - used)
    assert not stale, f"remove these exceptions, nothing needs them any more: {stale}"


@pytest.mark.parametrize(
    "source",
    ["def f():\n    from prelib.training import stages\n", "import prelib.pipeline.runner\n"],
)
def test_the_checker_sees_function_level_and_plain_imports(tmp_path, source):
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    ((imported, _),) = _imports(probe)
    assert _layer(imported) > _layer("prelib.models.probe")
