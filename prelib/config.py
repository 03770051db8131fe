"""Dataclass configuration with validation, and the ``tiny`` / ``demo`` / ``paper`` profiles.

Profiles are data, not code: each area of prelib owns one YAML file in ``prelib/profiles/``
(``sim.yaml``, ``models.yaml``, ``training.yaml`` …) whose top-level keys are the profile names.
An area defines its own dataclass (subclassing :class:`Config`) and loads its section with
:func:`load_config`::

    @dataclass(frozen=True)
    class SimConfig(Config):
        n_train: int = 8
        def validate(self):
            require_positive(self, "n_train")

    cfg = load_config("sim", "tiny", SimConfig, n_train=16)   # overrides win

Entry points (the CLI, :func:`prelib.notebook.setup`, the pipeline runner, the evaluation
session) resolve a whole run once with :func:`resolve` and hand its sections down; nothing below
them takes a profile name::

    cfg = resolve("demo", seed=1, training={"epochs": 1})
    teacher = get_model("teacher", cfg.models.teacher)
    Trainer(model, step, loader, cfg.training.distill, run_dir)

* ``tiny`` — tests, seconds on one CPU core.
* ``demo`` — the main job (``make demo``) on 2 CPU cores, minutes.
* ``paper`` — the publication configuration (GPU).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from functools import cache
from importlib import resources
from typing import Any, ClassVar, TypeVar

import yaml

PROFILES: tuple[str, ...] = ("tiny", "workshop", "demo", "study", "paper")

C = TypeVar("C", bound="Config")


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of prelib's configuration dataclasses.

    Subclasses are frozen dataclasses that override :meth:`validate`; it runs after construction
    and raises ``ValueError`` naming the offending field.
    """

    section: ClassVar[str] = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check field values; raise ``ValueError`` naming the field. Subclasses override."""

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of the fields (nested dataclasses converted too)."""
        return dataclasses.asdict(self)

    def replace(self: C, **changes: Any) -> C:
        """A validated copy with some fields changed; unknown names raise ``ValueError``."""
        _check_known_fields(type(self), changes)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls: type[C], values: dict[str, Any]) -> C:
        """Build from a mapping, rejecting unknown keys with a ``ValueError``."""
        _check_known_fields(cls, values)
        return cls(**values)


def _check_known_fields(cls: type, values: dict[str, Any]) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"{cls.__name__}: unknown field(s) {unknown}; known fields are {sorted(known)}"
        )


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is one of :data:`PROFILES`, else raise ``ValueError``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")
    return profile


def deprecated_profile_name(
    profile: str, where: str, instead: str = "", stacklevel: int = 3
) -> None:
    """Warn that ``where`` was given a profile name where it takes a configuration object.

    The one deprecation path of the rule "only entry points read profiles": a function below the
    entry points that still accepts a profile name (for code written before
    :func:`resolve`) calls this before reading the profile itself. ``tests/test_config_rule.py``
    checks that every such function does.

    Parameters
    ----------
    profile : str
        The profile name received.
    where : str
        The function, as the user called it (``"build_benchmark(...)"``).
    instead : str, optional
        What to pass instead (default: the configuration from ``resolve(profile)``).
    stacklevel : int
        Of the warning; 3 points at the caller of ``where``.
    """
    instead = instead or "the configuration from prelib.config.resolve(profile)"
    warnings.warn(
        f"{where}: passing a profile name ({profile!r}) is deprecated; pass {instead} instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


@cache
def _read_profile_file(section: str) -> dict[str, Any]:
    name = f"{section}.yaml"
    try:
        text = resources.files("prelib.profiles").joinpath(name).read_text()
    except FileNotFoundError:
        raise ValueError(
            f"no profile file for section {section!r} (prelib/profiles/{name})"
        ) from None
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"prelib/profiles/{name} must map profile names to sections")
    return data


def profile_section(section: str, profile: str) -> dict[str, Any]:
    """The raw mapping of ``section`` for ``profile`` from ``prelib/profiles/<section>.yaml``.

    A profile may inherit from another with the key ``_inherit: <profile>``.
    """
    check_profile(profile)
    data = _read_profile_file(section)
    if profile not in data:
        raise ValueError(f"prelib/profiles/{section}.yaml has no {profile!r} profile")
    values = dict(data[profile] or {})
    parent = values.pop("_inherit", None)
    if parent is not None:
        base = profile_section(section, parent)
        base.update(values)
        values = base
    return values


def load_config(section: str, profile: str, cls: type[C], **overrides: Any) -> C:
    """Load and validate the dataclass ``cls`` for ``section`` at ``profile``.

    Parameters
    ----------
    section : str
        Name of the YAML file in ``prelib/profiles`` without extension.
    profile : str
        ``"tiny"``, ``"demo"`` or ``"paper"``.
    cls : type
        A :class:`Config` subclass.
    **overrides
        Field values that replace the profile's; ``None`` values are ignored so that optional
        command-line flags can be passed straight through.
    """
    values = profile_section(section, profile)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls.from_dict(values)


# ------------------------------------------------------------------------------------------
# Validation helpers: each raises ValueError naming the field of ``cfg``.
# ------------------------------------------------------------------------------------------
def require_positive(cfg: object, *names: str, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless each named field is a finite number > 0 (or >= 0)."""
    for name in names:
        value = getattr(cfg, name)
        ok = isinstance(value, int | float) and math.isfinite(value)
        ok = ok and (value >= 0 if allow_zero else value > 0)
        if not ok:
            bound = ">= 0" if allow_zero else "> 0"
            raise ValueError(
                f"{type(cfg).__name__}.{name} must be a finite number {bound}, got {value!r}"
            )


def require_in_range(cfg: object, name: str, low: float, high: float) -> None:
    """Raise ``ValueError`` unless ``low <= cfg.name <= high``."""
    value = getattr(cfg, name)
    if not (isinstance(value, int | float) and low <= value <= high):
        raise ValueError(f"{type(cfg).__name__}.{name} must lie in [{low}, {high}], got {value!r}")


def require_choice(cfg: object, name: str, choices: tuple[str, ...] | list[str]) -> None:
    """Raise ``ValueError`` unless ``cfg.name`` is one of ``choices``."""
    value = getattr(cfg, name)
    if value not in choices:
        raise ValueError(
            f"{type(cfg).__name__}.{name} must be one of {list(choices)}, got {value!r}"
        )


# ------------------------------------------------------------------------------------------
# The resolved configuration of one run
# ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Every section of one run, resolved once from a profile and overrides (:func:`resolve`).

    Attributes
    ----------
    profile : str
        The profile the sections were read from (a label from here on: nothing re-reads it).
    seed : int
        Seed of the run's training (weights, shuffling, masks); seeded once per training run.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` …
    data : prelib.data.benchmark_config.BenchmarkConfig
    models : prelib.models.config.ModelConfigs
        ``models.teacher``, ``models.prenet``, ``models.unet``, ``models.lora``,
        ``models.distill``.
    training : prelib.training.config.StageTrainingConfigs
        ``training.teacher``, ``training.distill``, ``training.adapt``, ``training.light``.
    evaluation : prelib.evaluation.config.EvaluationConfig
    downscaling : prelib.downscaling.config.DownscalingConfig
    """

    profile: str
    seed: int
    device: str
    data: Any
    models: Any
    training: Any
    evaluation: Any
    downscaling: Any

    def to_dict(self) -> dict[str, Any]:
        """The plain nested mapping stored in checkpoints and run records."""
        out: dict[str, Any] = {"profile": self.profile, "seed": self.seed, "device": self.device}
        for field in ("data", "models", "training", "evaluation", "downscaling"):
            out[field] = getattr(self, field).to_dict()
        return out

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with whole sections (or ``profile``/``seed``/``device``) replaced."""
        return dataclasses.replace(self, **changes)

    def with_seed(self, seed: int) -> RunConfig:
        """The same run with another training seed: what ``resolve(profile, seed=seed, …)``
        gives (every training stage and the downscaling experiment take ``seed``; the
        benchmark's ``data.seed`` is unchanged)."""
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        stages = {
            f.name: getattr(self.training, f.name).replace(seed=seed)
            for f in dataclasses.fields(self.training)
        }
        return dataclasses.replace(
            self,
            seed=seed,
            training=self.training.replace(**stages),
            downscaling=self.downscaling.replace(seed=seed),
        )


def resolve(
    profile: str,
    *,
    seed: int | None = None,
    device: str | None = None,
    data: dict[str, Any] | None = None,
    models: dict[str, dict[str, Any]] | None = None,
    training: dict[str, Any] | None = None,
    evaluation: dict[str, Any] | None = None,
    downscaling: dict[str, Any] | None = None,
) -> RunConfig:
    """Resolve every configuration section of a run from ``profile`` and overrides.

    Called once, at an entry point; everything below takes the sections of the result.

    Parameters
    ----------
    profile : {"tiny", "demo", "paper"}
    seed : int, optional
        Seed of every training stage and of the downscaling experiment (default: the training
        profile's seed). The benchmark's seed is ``data["seed"]`` (default: the data profile's).
    device : str, optional
        Device of every training stage (default: the profile's, ``"auto"``).
    data, evaluation, downscaling : dict, optional
        Field overrides of :class:`~prelib.data.benchmark_config.BenchmarkConfig`,
        :class:`~prelib.evaluation.config.EvaluationConfig` and
        :class:`~prelib.downscaling.config.DownscalingConfig`.
    models : dict of dict, optional
        Section name (``teacher``, ``prenet``, ``unet``, ``lora``, ``distill``) → field overrides.
    training : dict, optional
        :class:`~prelib.training.config.TrainingConfig` fields for every stage, and mappings under
        ``teacher`` / ``distill`` / ``adapt`` for one stage.

    Raises
    ------
    ValueError
        Unknown profile, section or field, or an invalid value (naming the field).
    """
    # The one place that knows every area's section: these imports run at entry points only
    # (the import-layering test lists this function-level import explicitly).
    from prelib.data.benchmark_config import load_benchmark_config
    from prelib.downscaling.config import load_downscaling_config
    from prelib.evaluation.config import load_evaluation_config
    from prelib.models.config import load_model_configs
    from prelib.training.config import load_stage_training_configs

    check_profile(profile)
    training = dict(training or {})
    if seed is not None:
        training["seed"] = seed
    if device is not None:
        training["device"] = device
    stages = load_stage_training_configs(profile, **training)
    seed = stages.teacher.seed if seed is None else seed
    down = dict(downscaling or {})
    down.setdefault("seed", seed)
    return RunConfig(
        profile=profile,
        seed=seed,
        device=stages.teacher.device,
        data=load_benchmark_config(profile, **dict(data or {})),
        models=load_model_configs(profile, models),
        training=stages,
        evaluation=load_evaluation_config(profile, **dict(evaluation or {})),
        downscaling=load_downscaling_config(profile, **down),
    )


def config_hash(*parts: Any) -> str:
    """A short, stable hash (16 hex digits) of plain values or :class:`Config` objects.

    Used to key trained artefacts by the configuration that produced them.
    """
    plain = [p.to_dict() if hasattr(p, "to_dict") else p for p in parts]
    text = json.dumps(plain, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
