"""What notebooks call to set up, record their key numbers and save their figures.

:func:`setup` is a notebook's one setup call: it seeds the notebook, picks the device, resolves
the run's configuration once (:func:`prelib.config.resolve`) and returns it with the run's
:class:`~prelib.workflow.artefacts.RunLayout`. Every notebook writes into its own
``output_dir``: ``metrics.json`` (flat name → number) and PNG figures. The pipeline runner
collects ``metrics.json`` into ``summary.json``; tests assert the recorded numbers are finite and
in range.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from pathlib import Path
from typing import Any

from prelib.atomic import atomic_path, write_json
from prelib.config import RunConfig, resolve
from prelib.paths import profile_output_dir
from prelib.workflow.artefacts import RunLayout

METRICS_FILE = "metrics.json"


@dataclasses.dataclass(frozen=True)
class NotebookRun:
    """What :func:`setup` returns.

    Attributes
    ----------
    cfg : RunConfig
        The run's configuration, resolved once.
    layout : RunLayout
        The run's folders (trained networks under ``models/``, benchmark stores in the data
        folder).
    out : Path
        The notebook's own output folder (created).
    device : torch.device
    """

    cfg: RunConfig
    layout: RunLayout
    out: Path
    device: Any


def setup(
    profile: str,
    seed: int = 0,
    device: str = "auto",
    output_dir: str | Path = ".",
    run_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    **overrides: Any,
) -> NotebookRun:
    """A notebook's one setup call.

    Seeds Python, NumPy and torch with ``seed`` (the notebook's own randomness; each training
    run seeds itself once more from the same seed), picks the device, resolves the configuration
    with :func:`prelib.config.resolve` (the benchmark seed is ``seed`` too) and creates
    ``output_dir``.

    Parameters
    ----------
    profile : {"tiny", "demo", "paper"}
    seed : int
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` …
    output_dir : path-like
        The notebook's own outputs.
    run_dir : path-like, optional
        The run folder shared with the other notebooks and the CLI; default
        ``PRELIB_OUTPUT_DIR/<profile>``.
    data_dir : path-like, optional
        The data folder of the benchmark stores; default ``PRELIB_DATA_DIR`` (``./data``).
    **overrides
        Section overrides of :func:`~prelib.config.resolve` (``training={...}``, ``models=…``).
    """
    from prelib.runtime import setup as runtime_setup

    chosen = runtime_setup(seed=seed, device=device)
    data = {"seed": seed, **dict(overrides.pop("data", None) or {})}
    cfg = resolve(profile, seed=seed, device=str(chosen), data=data, **overrides)
    layout = RunLayout(run_dir or profile_output_dir(profile), data_dir)
    out = prepare_output_dir(output_dir)
    print(f"profile={profile} seed={seed} device={chosen} run={layout.root} -> {out}")
    return NotebookRun(cfg, layout, out, chosen)


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
