"""Helpers that notebooks call to record their key numbers and figures.

Every notebook writes into its own ``output_dir``: ``metrics.json`` (flat name → number) and
PNG figures. The pipeline runner collects ``metrics.json`` into ``summary.json``; tests assert the
recorded numbers are finite and in range.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

from prelib.atomic import atomic_path, write_json

METRICS_FILE = "metrics.json"


def prepare_output_dir(output_dir: str | Path) -> Path:
    """Create ``output_dir`` (and parents) and return it as a ``Path``."""
    path = Path(output_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return float(value) if not isinstance(value, int) else value
    if isinstance(value, str):
        return value
    raise ValueError(f"metrics must be numbers or strings, got {type(value).__name__}: {value!r}")


def record_metrics(output_dir: str | Path, **metrics: Any) -> dict[str, Any]:
    """Merge ``metrics`` into ``output_dir/metrics.json`` (atomically) and return all of them.

    Values must be numbers (numpy/torch scalars are converted) or strings. Non-finite numbers are
    stored as ``null`` with a warning key, so that tests catch them.

    Examples
    --------
    >>> record_metrics("outputs/tiny/00_quickstart", rmse=1.2, csi=0.41)  # doctest: +SKIP
    """
    path = prepare_output_dir(output_dir) / METRICS_FILE
    current = read_metrics(path.parent)
    for name, value in metrics.items():
        value = _plain(value)
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        current[name] = value
    write_json(path, current)
    return current


def read_metrics(output_dir: str | Path) -> dict[str, Any]:
    """The recorded metrics of a notebook run (empty if none yet)."""
    path = Path(output_dir) / METRICS_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def save_figure(fig, output_dir: str | Path, name: str, dpi: int = 120) -> Path:
    """Save a matplotlib figure as ``output_dir/name.png`` atomically and return the path."""
    if not name or "/" in name:
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    target = prepare_output_dir(output_dir) / f"{name}.png"
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return target
