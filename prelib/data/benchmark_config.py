"""Benchmark sizes and dry-patch filtering per profile (``prelib/profiles/data.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prelib.config import (
    Config,
    RunConfig,
    deprecated_profile_name,
    load_config,
    require_in_range,
    require_positive,
)
from prelib.conventions import REGIMES, SPLITS

BENCHMARK_KINDS: tuple[str, ...] = ("swath", "fulldisc")
"""``swath`` = Swath-MPR (multimodal, 256 × 49 at 5 km); ``fulldisc`` = Full-IPR (IR only,
256 × 256 at 4 km)."""


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a benchmark kind, else raise ``ValueError``."""
    if kind not in BENCHMARK_KINDS:
        raise ValueError(f"unknown benchmark kind {kind!r}; choose one of {list(BENCHMARK_KINDS)}")
    return kind


def check_split(split: str) -> str:
    """Return ``split`` if it is one of ``train``/``val``/``test``, else raise ``ValueError``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    return split


@dataclass(frozen=True)
class BenchmarkConfig(Config):
    """How many samples each split has and which patches count as dry.

    Attributes
    ----------
    swath_train, swath_val, swath_test : int
        Swath-MPR sample counts (paper: 2281 / 279 / 1037).
    fulldisc_train, fulldisc_val, fulldisc_test : int
        Full-IPR sample counts (paper: 6220 / 754 / 12819).
    min_wet_fraction : float
        A patch is kept only if at least this fraction of its valid label pixels has
        ``precip >= RAIN_THRESHOLD`` (0.1 mm h-1). The paper drops patches with "little or no
        precipitation" without a number; we use 2 %: at 5 km that is ≥ 250 pixels of a Swath-MPR
        patch (≈ 6,000 km², one mesoscale rain area), at 4 km ≥ 1,300 pixels of a Full-IPR patch.
        Below that a patch carries almost no rain signal, yet keeping some drier patches (2–5 %)
        keeps the no-rain class and rain edges well represented.
    min_valid_fraction : float
        A patch is kept only if at least this fraction of its label pixels is finite.
    max_attempts : int
        Dry or invalid draws are retried with the next attempt number (a new time and place drawn
        deterministically); after this many the build fails with a ``RuntimeError``.
    regimes : tuple of str or None
        ``None``: each scene's regime follows the world's climatology at its time and place.
        Otherwise the plan draws the regime uniformly from this list (balanced benchmarks).
    seed : int
        Benchmark seed: the whole plan and every scene follow from it.
    workers : int
        Parallel worker processes used when materialising to Zarr.
    """

    swath_train: int = 3
    swath_val: int = 2
    swath_test: int = 2
    fulldisc_train: int = 3
    fulldisc_val: int = 2
    fulldisc_test: int = 2
    min_wet_fraction: float = 0.02
    min_valid_fraction: float = 0.5
    max_attempts: int = 50
    regimes: tuple[str, ...] | None = None
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.regimes is not None and not isinstance(self.regimes, tuple):
            object.__setattr__(self, "regimes", tuple(self.regimes))
        super().__post_init__()

    def validate(self) -> None:
        for kind in BENCHMARK_KINDS:
            for split in SPLITS:
                name = f"{kind}_{split}"
                value = getattr(self, name)
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError(
                        f"BenchmarkConfig.{name} must be a positive integer sample count, "
                        f"got {value!r}"
                    )
        require_in_range(self, "min_wet_fraction", 0.0, 1.0)
        require_in_range(self, "min_valid_fraction", 0.0, 1.0)
        require_positive(self, "max_attempts", "workers")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(
                f"BenchmarkConfig.seed must be a non-negative integer, got {self.seed!r}"
            )
        if self.regimes is not None:
            unknown = [r for r in self.regimes if r not in REGIMES]
            if unknown or not self.regimes:
                raise ValueError(
                    f"BenchmarkConfig.regimes must be null or a non-empty list of {list(REGIMES)}, "
                    f"got {list(self.regimes)!r}"
                )

    def size(self, kind: str, split: str) -> int:
        """Number of samples of ``kind`` (``swath``/``fulldisc``) in ``split``."""
        return int(getattr(self, f"{check_kind(kind)}_{check_split(split)}"))


def load_benchmark_config(profile: str = "tiny", **overrides: object) -> BenchmarkConfig:
    """The :class:`BenchmarkConfig` of a profile (``tiny``/``demo``/``paper``) with overrides."""
    return load_config("data", profile, BenchmarkConfig, **overrides)


def benchmark_section(
    config: RunConfig | BenchmarkConfig | str,
    where: str,
    overrides: dict[str, Any] | None = None,
    stacklevel: int = 4,
) -> tuple[BenchmarkConfig, str]:
    """The data section of a run, with field overrides, and the profile that labels its stores.

    Parameters
    ----------
    config : RunConfig or BenchmarkConfig
        A resolved run (:func:`prelib.config.resolve`: ``config.data``, label ``config.profile``)
        or a data section alone (label ``"custom"``). A profile name is deprecated: it is read
        here, with a ``DeprecationWarning`` naming ``where``.
    where : str
        The calling function, for messages.
    overrides : dict, optional
        :class:`BenchmarkConfig` fields to replace; ``None`` values are ignored.
    stacklevel : int
        Of the deprecation warning (4: the caller of the function that calls this).

    Returns
    -------
    (BenchmarkConfig, str)
    """
    changes = {k: v for k, v in (overrides or {}).items() if v is not None}
    if isinstance(config, str):
        deprecated_profile_name(config, where, stacklevel=stacklevel)
        return load_benchmark_config(config, **changes), config
    if isinstance(config, RunConfig):
        data, label = config.data, config.profile
    elif isinstance(config, BenchmarkConfig):
        data, label = config, "custom"
    else:
        raise ValueError(
            f"{where}: expected a RunConfig (prelib.config.resolve) or a BenchmarkConfig, "
            f"got {type(config).__name__}"
        )
    return (data.replace(**changes) if changes else data), label
