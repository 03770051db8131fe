"""Build a synthetic benchmark split into a Zarr store (``prelib simulate build``).

The synthetic builder beside the real-data one (:mod:`prelib.data.build.real`): both write
through :func:`prelib.data.store.write_benchmark` and run on the same execution module
(:class:`prelib.data.build.execution.UnitRunner`, one tqdm progress bar), so ``--workers`` and
``--cluster`` mean the same for both. Sample ``i`` of a split is a pure function of the
benchmark seed and ``i`` (:mod:`prelib.data.sample_plan`), so the bytes written do not depend on
the number of workers or on where they run.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import xarray as xr

from prelib.config import RunConfig
from prelib.data.benchmark_config import BenchmarkConfig, benchmark_section, check_kind, check_split
from prelib.data.store import store_path, write_benchmark

if TYPE_CHECKING:
    from prelib.data.build.execution import UnitRunner


def _synthetic_sample(kind: str, split: str, config: BenchmarkConfig, index: int) -> xr.Dataset:
    from prelib.data.samples import generate_sample

    return generate_sample(kind, split, index, config)[0]


def build_benchmark(
    kind: str,
    split: str,
    config: RunConfig | BenchmarkConfig | str,
    out: str | os.PathLike | None = None,
    n_samples: int | None = None,
    progress: bool = True,
    runner: UnitRunner | None = None,
    **overrides: object,
) -> Path:
    """Build one split of a synthetic benchmark into a Zarr store.

    Parameters
    ----------
    kind : {"swath", "fulldisc"}
    split : {"train", "val", "test"}
    config : RunConfig or BenchmarkConfig
        The run (:func:`prelib.config.resolve`; its ``data`` section sets the split size, seed,
        workers and dry-patch filtering, its profile names the default folder) or a data section
        alone (then ``out`` is required). A profile name is deprecated.
    out : path-like, optional
        Store path; default :func:`~prelib.data.store.benchmark_path` of the run under
        ``PRELIB_DATA_DIR``.
    n_samples : int, optional
        Override the split size (sample ``i`` is the same for every size).
    progress : bool
        tqdm progress bar.
    runner : prelib.data.build.execution.UnitRunner, optional
        An open runner to make the samples on (``prelib simulate build --cluster``); default:
        the data section's ``workers`` local processes.
    **overrides
        :class:`~prelib.data.benchmark_config.BenchmarkConfig` fields (``seed``, ``workers``,
        ``min_wet_fraction`` …) replaced for this build; ``None`` values are ignored.

    Returns
    -------
    pathlib.Path
        The store written.
    """
    check_kind(kind)
    check_split(split)
    data, label = benchmark_section(config, "build_benchmark(...)", overrides, stacklevel=4)
    size = data.size(kind, split) if n_samples is None else n_samples
    if out is None:
        if label == "custom":
            raise ValueError(
                "build_benchmark: a BenchmarkConfig alone has no profile to place the store by; "
                "pass out=... or the RunConfig from prelib.config.resolve"
            )
        out = store_path(kind, split, label, data.seed)
    attrs = {
        "title": f"prelib synthetic {'Swath-MPR' if kind == 'swath' else 'Full-IPR'} benchmark",
        "split": split,
        "profile": label,
        "benchmark_seed": data.seed,
        "min_wet_fraction": data.min_wet_fraction,
        "min_valid_fraction": data.min_valid_fraction,
        "forced_regimes": ",".join(data.regimes) if data.regimes else "climatology",
    }
    make_sample = functools.partial(_synthetic_sample, kind, split, data)
    return write_benchmark(
        make_sample, size, Path(out), kind, data.workers, attrs, progress, runner=runner
    )


__all__ = ["build_benchmark"]
