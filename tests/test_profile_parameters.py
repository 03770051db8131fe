"""Only entry points read profiles: below them, functions take resolved configuration objects.

A profile name (``"tiny"``, ``"demo"`` …) is resolved once, by :func:`prelib.config.resolve`, at
an entry point: the CLI (``prelib.cli`` and every ``*commands`` module), ``prelib.notebook``,
the pipeline runner and the evaluation session and study. Everything else takes the
:class:`~prelib.config.RunConfig` or one of its sections. This test walks the source of
``prelib`` and fails on a function outside the entry points with a parameter named ``profile``
that takes a string, unless

* it is on :data:`ALLOWED` below, with the reason, or
* it is a deprecated compatibility path: the function hands that parameter to
  :func:`prelib.config.deprecated_profile_name` (directly, or to a helper of prelib that does)
  before reading the profile.

The same holds for a parameter that takes a configuration object *or* a string (``config:
RunConfig | str``): the string is a profile name, so the function must warn.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "prelib"

ENTRY_MODULES: dict[str, str] = {
    "prelib.cli": "the command line",
    "prelib.config": "resolve() itself and the profile files it reads",
    "prelib.notebook": "setup(): the notebooks' entry point",
    "prelib.explore": "the case explorer of notebook 08 (top layer, as in the layering test)",
    "prelib.pipeline.runner": "the notebook pipeline (prelib pipeline run, make demo)",
    "prelib.evaluation.session": "ExperimentSession resolves one seed's run",
    "prelib.evaluation.study": "run_study resolves each study setting's run",
}
"""Modules that are entry points, besides every ``*commands`` module (the CLI handlers)."""

ALLOWED: dict[str, str] = {
    # The section readers that resolve() composes: reading a profile is their one job.
    "prelib.data.benchmark_config.load_benchmark_config": "section reader of resolve()",
    "prelib.evaluation.config.load_evaluation_config": "section reader of resolve()",
    "prelib.models.config.load_model_configs": "section reader of resolve()",
    "prelib.models.config.load_model_config": "reads one section for load_model_configs",
    "prelib.training.config.load_stage_training_configs": "section reader of resolve()",
    "prelib.training.config.load_training_config": "reads one stage for the above",
    "prelib.downscaling.config.load_downscaling_config": "section reader of resolve()",
    # Labels: the profile's name, never read as configuration.
    "prelib.paths.profile_output_dir": "names the folder of a profile's run (outputs/<profile>)",
    "prelib.training.checkpoint.make_header": "the profile label a checkpoint header records",
    "prelib.training.checkpoint.check_header": "compares a header's label with the expected one",
    "prelib.training.checkpoint.load_checkpoint": "refuses a checkpoint of another label",
    "prelib.training.checkpoint.load_model_weights": "refuses a checkpoint of another label",
    "prelib.training.trainer.Trainer.__init__": "the label it writes into its checkpoints",
}
"""``module.function`` (``module.Class.method``) → why it may take a profile name."""

DEPRECATION_HELPER = "deprecated_profile_name"
CONFIG_TYPES = ("RunConfig", "ModelConfigs", "StageTrainingConfigs")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_entry_module(module: str) -> bool:
    """CLI handlers (``*commands`` modules) and :data:`ENTRY_MODULES`."""
    return module in ENTRY_MODULES or module.rsplit(".", 1)[-1].endswith("commands")


def _functions(tree: ast.AST, prefix: str = ""):
    """``(qualified name, node)`` of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def _arguments(function: ast.AST) -> list[ast.arg]:
    args = function.args
    return args.posonlyargs + args.args + args.kwonlyargs


def _callee(call: ast.Call) -> str:
    target = call.func
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else ""


def _handed_on(function: ast.AST) -> set[tuple[str, str]]:
    """``(callee, parameter)`` for every call of ``function`` that passes one of its parameters
    as an argument (positional or keyword) by name."""
    params = {a.arg for a in _arguments(function)}
    pairs = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            values = list(node.args) + [k.value for k in node.keywords]
            for value in values:
                if isinstance(value, ast.Name) and value.id in params:
                    pairs.add((_callee(node), value.id))
    return pairs


def _takes_a_profile_name(arg: ast.arg) -> bool:
    """``profile: str`` (or ``str | None``, ``str | RunConfig`` …), or a parameter of any name
    typed as a configuration object or a string."""
    if arg.annotation is None:
        return False
    note = arg.annotation
    text = note.value if isinstance(note, ast.Constant) else ast.unparse(note)
    takes_str = "str" in {part.strip() for part in text.replace("|", ",").split(",")}
    if not takes_str:
        return False
    return arg.arg == "profile" or any(name in text for name in CONFIG_TYPES) or "Config |" in text


def find_violations(sources: dict[str, str]) -> list[str]:
    """``module.function(parameter)`` of every function breaking the rule in ``sources``
    (module name → source text)."""
    trees = {module: ast.parse(text) for module, text in sources.items()}
    functions = {
        (module, name): node for module, tree in trees.items() for name, node in _functions(tree)
    }
    handed = {key: _handed_on(node) for key, node in functions.items()}
    profile_params = {
        key: {a.arg for a in _arguments(node) if _takes_a_profile_name(a)}
        for key, node in functions.items()
    }
    # functions that warn about a profile name given to them: they hand such a parameter to the
    # helper, or to another function of the package that does (by simple name)
    warning = {DEPRECATION_HELPER}
    changed = True
    while changed:
        changed = False
        for key, pairs in handed.items():
            simple = key[1].rsplit(".", 1)[-1]
            if simple in warning:
                continue
            if any(callee in warning and p in profile_params[key] for callee, p in pairs):
                warning.add(simple)
                changed = True
    found = []
    for module, tree in trees.items():
        if is_entry_module(module):
            continue
        for name, node in _functions(tree):
            qualified = f"{module}.{name}"
            if qualified in ALLOWED:
                continue
            warned = {param for callee, param in handed[module, name] if callee in warning}
            for arg in _arguments(node):
                if _takes_a_profile_name(arg) and arg.arg not in warned:
                    found.append(f"{qualified}({arg.arg}: {ast.unparse(arg.annotation)})")
    return found


def _package_sources() -> dict[str, str]:
    return {_module_name(p): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}


def test_no_function_below_the_entry_points_takes_a_profile_name():
    violations = find_violations(_package_sources())
    assert not violations, (
        "these functions take a profile name below the entry points; take the RunConfig from "
        "prelib.config.resolve (or one of its sections) instead, or warn through "
        f"prelib.config.{DEPRECATION_HELPER} on a deprecated path:\n  " + "\n  ".join(violations)
    )


def test_the_rule_catches_a_profile_parameter_and_accepts_the_deprecated_path():
    sources = {
        "prelib.data.fake": (
            "def build(kind: str, profile: str = 'tiny'):\n"
            "    return load_config('data', profile)\n"
            "def build_from(kind, config: 'RunConfig | str'):\n"
            "    return config\n"
            "def _read(profile: str):\n"
            "    deprecated_profile_name(profile, 'old(...)')\n"
            "def old(kind, profile: str | None = None):\n"
            "    _read(profile)\n"
            "def label(name: str, config: RunConfig):\n"
            "    return name\n"
            "def sneaky(config: RunConfig | str, other: str):\n"
            "    old(other)\n"
            "    return resolve(config)\n"
        ),
        "prelib.data.commands": "def run(profile: str):\n    return profile\n",
    }
    assert find_violations(sources) == [
        "prelib.data.fake.build(profile: str)",
        "prelib.data.fake.build_from(config: 'RunConfig | str')",
        "prelib.data.fake.sneaky(config: RunConfig | str)",
    ]


@pytest.mark.parametrize("qualified", sorted(ALLOWED))
def test_every_allowed_function_still_exists_and_takes_a_profile(qualified):
    sources = _package_sources()
    module = next(
        (m for m in sorted(sources, key=len, reverse=True) if qualified.startswith(m + ".")), None
    )
    assert module is not None, f"{qualified}: no such module (stale entry in ALLOWED)"
    functions = dict(_functions(ast.parse(sources[module])))
    name = qualified[len(module) + 1 :]
    assert name in functions, f"{qualified}: no such function (stale entry in ALLOWED)"
    args = functions[name].args
    assert any(_takes_a_profile_name(a) for a in args.posonlyargs + args.args + args.kwonlyargs), (
        f"{qualified} no longer takes a profile name: remove it from ALLOWED"
    )
