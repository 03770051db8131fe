"""The method × score table of bias correction and downscaling.

Columns (all in mm h-1 unless stated; pooled over every test pixel):

* ``rmse``, ``cc`` — of the deterministic field: the ensemble mean for ensembles;
* ``crps`` — fair ensemble CRPS (Ferro 2014) for ensembles, the MAE for deterministic methods
  (the CRPS of a point forecast);
* ``csi@0.1``, ``csi@1``, ``csi@10`` — critical success index at those thresholds, and
  ``fss@1`` — fractions skill score at 1 mm h-1 in windows of one coarse cell (``factor`` fine
  pixels), ``p99`` — the 99th percentile of all predicted rates, ``psd_ratio`` — predicted over
  true power at scales below two coarse cells
  (:func:`~prelib.metrics.spectrum.small_scale_power_ratio`). These five describe how
  *realistic* a field is, so for ensembles they are scored on one member (member 0), not on the
  smooth mean (our choice; the truth row gives the target ``p99`` and ``psd_ratio`` = 1);
* ``member_csi@0.1``, ``member_csi@1`` — CSI of every member, averaged over the members (the
  skill a user gets from any one member); ``false_wet`` — the fraction of truly dry pixels
  (truth < 0.1 mm h-1) that member 0 makes wet (>= 0.1): false drizzle; ``spread_skill`` —
  the ensemble's spread–skill ratio ``√((n+1)/n) · spread / RMSE(mean)`` (Fortin et al. 2014;
  1 = calibrated, < 1 under-dispersive; NaN for deterministic methods);
* ``params`` — trainable parameters; ``gflops_per_1000km`` — GFLOPs to produce one member over
  1000 × 1000 fine pixels (1000 × 1000 km at 1 km), counted with
  ``torch.utils.flop_counter`` on the test batch and scaled by pixel count;
  ``seconds_per_1000km`` — measured wall time per member for the same area (CPU, noisy).

Metrics come from :mod:`prelib.metrics`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prelib.atomic import atomic_path
from prelib.data.precip_grids import check_precip
from prelib.metrics.spectrum import small_scale_power_ratio

AREA_PIXELS: int = 1000 * 1000
"""Fine pixels of a 1000 × 1000 km domain at 1 km."""

COLUMNS: tuple[str, ...] = (
    "rmse",
    "cc",
    "crps",
    "csi@0.1",
    "csi@1",
    "csi@10",
    "fss@1",
    "p99",
    "psd_ratio",
    "member_csi@0.1",
    "member_csi@1",
    "false_wet",
    "spread_skill",
    "params",
    "gflops_per_1000km",
    "seconds_per_1000km",
)


@dataclasses.dataclass
class MethodOutput:
    """What one method produced on the test set.

    Attributes
    ----------
    name : str
    members : np.ndarray, shape ``(member, sample, H, W)``
        Fine predictions in mm h-1; deterministic methods have one member.
    params : int, optional
    flops : float, optional
        FLOPs for one member over the whole test batch.
    seconds : float, optional
        Wall time for one member over the whole test batch.
    """

    name: str
    members: np.ndarray
    params: int | None = None
    flops: float | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        self.members = check_precip(self.members, f"{self.name} prediction")
        if self.members.ndim != 4:
            raise ValueError(
                f"{self.name}: members must be (member, sample, y, x), got {self.members.shape}"
            )

    @property
    def deterministic(self) -> np.ndarray:
        """Ensemble mean ``(sample, H, W)``."""
        return self.members.mean(axis=0)


def crps(members: np.ndarray, truth: np.ndarray) -> float:
    """Pooled CRPS: fair ensemble CRPS for ≥ 2 members, MAE for one member."""
    from prelib.metrics import score

    members = np.asarray(members)
    if members.shape[0] == 0:
        raise ValueError("ensemble size must be >= 1, got 0")
    if members.shape[0] == 1:
        return float(score(members[0], truth, metrics=["mae"])["mae"])
    from prelib.metrics import CRPS

    return float(score(members, truth, metrics={"crps": CRPS(member_axis=0)})["crps"])


def spread_skill_ratio(members: np.ndarray, truth: np.ndarray) -> float:
    """``√((n+1)/n) · spread / RMSE`` of an ``(member, ...)`` ensemble (NaN for one member).

    ``spread`` is the root of the pixel-mean unbiased ensemble variance and ``RMSE`` that of the
    ensemble mean (Fortin et al. 2014, "Why should ensemble spread match the RMSE of the
    ensemble mean?", J. Hydrometeor. 15, 1708–1713).
    """
    members = np.asarray(members, dtype=np.float64)
    n = members.shape[0]
    if n < 2:
        return float("nan")
    spread = np.sqrt(members.var(axis=0, ddof=1).mean())
    rmse = np.sqrt(((members.mean(axis=0) - truth) ** 2).mean())
    return float(np.sqrt((n + 1) / n) * spread / rmse) if rmse > 0 else float("nan")


def score_output(output: MethodOutput, truth: np.ndarray, factor: int) -> dict[str, float]:
    """One row of the table (see the module docstring)."""
    from prelib.metrics import score

    truth = check_precip(truth, "truth")
    if output.members.shape[1:] != truth.shape:
        raise ValueError(
            f"{output.name}: prediction grid {output.members.shape[1:]} != truth {truth.shape}"
        )
    mean_scores = score(output.deterministic, truth, metrics=["rmse", "cc"])
    member = output.members[0]
    field_scores = score(
        member, truth, metrics=["csi@0.1", "csi@1", "csi@10", "fss@1"], scales=(factor,)
    )
    n_pixels = truth.size
    member_csi = [score(m, truth, metrics=["csi@0.1", "csi@1"]) for m in output.members]
    dry = truth < 0.1
    row = {
        "rmse": mean_scores["rmse"],
        "cc": mean_scores["cc"],
        "crps": crps(output.members, truth),
        "csi@0.1": field_scores["csi@0.1"],
        "csi@1": field_scores["csi@1"],
        "csi@10": field_scores["csi@10"],
        "fss@1": field_scores[f"fss@1_{factor}"] if f"fss@1_{factor}" in field_scores else np.nan,
        "p99": float(np.percentile(member, 99)),
        "psd_ratio": small_scale_power_ratio(member, truth, factor),
        "member_csi@0.1": float(np.mean([c["csi@0.1"] for c in member_csi])),
        "member_csi@1": float(np.mean([c["csi@1"] for c in member_csi])),
        "false_wet": float((member[dry] >= 0.1).mean()) if dry.any() else np.nan,
        "spread_skill": spread_skill_ratio(output.members, truth),
        "params": float(output.params) if output.params is not None else np.nan,
        "gflops_per_1000km": (
            output.flops / n_pixels * AREA_PIXELS / 1e9 if output.flops is not None else np.nan
        ),
        "seconds_per_1000km": (
            output.seconds / n_pixels * AREA_PIXELS if output.seconds is not None else np.nan
        ),
    }
    return row


def evaluation_table(outputs: list[MethodOutput], truth: np.ndarray, factor: int) -> pd.DataFrame:
    """The method × score DataFrame, with a ``truth`` reference row first."""
    rows = {"truth": {c: np.nan for c in COLUMNS}}
    rows["truth"].update({"p99": float(np.percentile(truth, 99)), "psd_ratio": 1.0})
    for output in outputs:
        rows[output.name] = score_output(output, truth, factor)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    table.index.name = "method"
    return table


def measure(function: Callable[[], Any], count_flops: bool = True) -> tuple[Any, float, float]:
    """Run ``function`` once; return ``(result, seconds, flops)``.

    FLOPs are counted in a second, separate run under ``torch.utils.flop_counter`` so the
    counter's overhead does not enter the timing (NaN when ``count_flops`` is False).
    """
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    flops = float("nan")
    if count_flops:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            function()
        flops = float(counter.get_total_flops())
    return result, seconds, flops


def to_markdown(table: pd.DataFrame, title: str = "") -> str:
    """A GitHub-flavoured Markdown table (no ``tabulate`` dependency); NaN shows as ``–``."""

    def cell(value: Any) -> str:
        if isinstance(value, float | np.floating):
            if np.isnan(value):
                return "–"
            if abs(value) >= 1e4:
                return f"{value:,.0f}"
            return f"{value:.3g}" if abs(value) < 0.01 else f"{value:.3f}"
        return str(value)

    header = [table.index.name or "", *map(str, table.columns)]
    lines = [f"## {title}\n"] if title else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    for name, row in table.iterrows():
        lines.append("| " + " | ".join([str(name), *map(cell, row.to_numpy())]) + " |")
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, directory: str | Path, stem: str, title: str = "") -> dict:
    """Write ``<stem>.csv`` and ``<stem>.md`` atomically; returns their paths."""
    directory = Path(directory)
    paths = {"csv": directory / f"{stem}.csv", "md": directory / f"{stem}.md"}
    with atomic_path(paths["csv"]) as tmp:
        table.to_csv(tmp, float_format="%.6g")
    with atomic_path(paths["md"]) as tmp:
        tmp.write_text(to_markdown(table, title))
    return paths
