"""Mean ± std over seeds and the atomic CSV / Markdown writers of the paper tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from prelib.atomic import atomic_path

LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"rmse", "mse", "mae", "far", "ce", "brier", "far_pval"}
)
"""Scores marked ↓ in the tables; the rest are marked ↑."""

HEADS: dict[str, str] = {
    "csi_pval": "CSI@p_val",
    "pod_pval": "POD@p_val",
    "far_pval": "FAR@p_val",
    "p_threshold": "p_val",
}
"""Column heads that are not the upper-cased key."""


def summarise(raw: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean and sample standard deviation over seeds of every row.

    Parameters
    ----------
    raw : DataFrame
        One line per (row, seed): columns ``row``, ``seed`` and the ``metrics``.
    metrics : sequence of str

    Returns
    -------
    DataFrame
        Index ``row`` (in first-seen order); columns ``<metric>`` (mean), ``<metric>_std``
        (NaN with a single seed) and ``n_seeds``.
    """
    missing = [c for c in ("row", "seed", *metrics) if c not in raw.columns]
    if missing:
        raise ValueError(f"raw results need columns {missing}; got {list(raw.columns)}")
    order = list(dict.fromkeys(raw["row"]))
    grouped = raw.groupby("row", sort=False)
    out = pd.DataFrame(index=pd.Index(order, name="row"))
    for metric in metrics:
        out[metric] = grouped[metric].mean().reindex(order)
        out[f"{metric}_std"] = grouped[metric].std(ddof=1).reindex(order)
    out["n_seeds"] = grouped["seed"].nunique().reindex(order)
    return out


def _cell(mean: float, std: float, digits: int) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "NaN"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def to_markdown(
    summary: pd.DataFrame, metrics: Sequence[str], title: str = "", digits: int = 4, note: str = ""
) -> str:
    """A Markdown table of ``summary`` (from :func:`summarise`) with ↓ / ↑ headers.

    ``note`` (e.g. the test-set size) is written under the table. Metrics missing from
    ``summary`` are skipped.
    """
    metrics = [m for m in metrics if m in summary.columns]
    heads = [f"{HEADS.get(m, m.upper())}{'↓' if m in LOWER_IS_BETTER else '↑'}" for m in metrics]
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join(["Row", *heads, "seeds"]) + " |")
    lines.append("|" + "---|" * (len(heads) + 2))
    for row, values in summary.iterrows():
        cells = [_cell(values[m], values.get(f"{m}_std"), digits) for m in metrics]
        lines.append("| " + " | ".join([str(row), *cells, str(int(values["n_seeds"]))]) + " |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def write_table(
    summary: pd.DataFrame,
    raw: pd.DataFrame,
    out_dir: str | Path,
    name: str,
    metrics: Sequence[str],
    title: str = "",
    note: str = "",
) -> dict[str, Path]:
    """Write ``<name>.csv`` (summary), ``<name>_seeds.csv`` (raw) and ``<name>.md`` atomically.

    Returns
    -------
    dict
        ``{"csv": path, "seeds_csv": path, "markdown": path}``.
    """
    out_dir = Path(out_dir)
    paths = {
        "csv": out_dir / f"{name}.csv",
        "seeds_csv": out_dir / f"{name}_seeds.csv",
        "markdown": out_dir / f"{name}.md",
    }
    with atomic_path(paths["csv"]) as tmp:
        summary.to_csv(tmp)
    with atomic_path(paths["seeds_csv"]) as tmp:
        raw.to_csv(tmp, index=False)
    with atomic_path(paths["markdown"]) as tmp:
        Path(tmp).write_text(to_markdown(summary, metrics, title, note=note), encoding="utf-8")
    return paths
