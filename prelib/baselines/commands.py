"""``prelib baseline``: fit a classical IR baseline and save it pickle-free.

Examples::

    prelib baseline fit persiann_ccs --profile demo            # the run's Full-IPR train store
    prelib baseline fit gbm --store data/my_fulldisc_train.zarr --out gbm.npz --max-pixels 50000
    prelib infer --case frontal --baseline persiann_ccs --profile demo   # uses the fitted file

The baseline is fitted on every pixel of a benchmark store (``ir`` in K, ``precip`` in
mm h-1; NaN labels are left out). Without ``--store`` that is the run's Full-IPR training split
(``<data>/synthetic/<profile>/seed<seed>/fulldisc_train.zarr``, built first when missing, as the
pipeline does). The result is a ``.npz`` of JSON settings and plain arrays, by default
``<run>/models/baselines/<name>.npz``, where ``prelib infer --baseline NAME`` finds it; it is
read back with ``allow_pickle=False``, so opening it never runs code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from prelib.baselines import BASELINES
from prelib.config import PROFILES


def fitted_baseline_path(run_dir: str | Path, name: str) -> Path:
    """Where ``prelib baseline fit NAME`` saves by default: ``<run>/models/baselines/NAME.npz``."""
    return Path(run_dir) / "models" / "baselines" / f"{name}.npz"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``fit`` action of ``prelib baseline``."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fit = actions.add_parser("fit", help="fit a baseline on a benchmark store and save it (.npz)")
    fit.add_argument("name", choices=sorted(BASELINES), help="the baseline to fit")
    fit.add_argument(
        "--store",
        type=Path,
        default=None,
        help="Full-IPR (or Swath-MPR) Zarr store to fit on (default: the profile's Full-IPR "
        "train store, built when missing)",
    )
    fit.add_argument(
        "--profile", choices=PROFILES, default="demo", help="run profile (default demo)"
    )
    fit.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="run folder to save into (default PRELIB_OUTPUT_DIR/<profile>, e.g. outputs/demo)",
    )
    fit.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data folder of the benchmark stores (default PRELIB_DATA_DIR, else ./data)",
    )
    fit.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output .npz (default <run>/models/baselines/<name>.npz)",
    )
    fit.add_argument(
        "--seed", type=int, default=0, help="seed of the GBM subsample / CCS clustering (0)"
    )
    fit.add_argument(
        "--max-pixels",
        type=int,
        default=200_000,
        help="training pixels of gbm, drawn at random (default 200000)",
    )
    fit.add_argument(
        "--max-samples",
        type=int,
        default=None,
        help="use only the first N samples of the store (default: all)",
    )


def read_training_arrays(
    store: str | Path, max_samples: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """IR (N, C, H, W) in K and rain (N, H, W) in mm h-1 of a benchmark store's samples.

    Raises
    ------
    FileNotFoundError
        No store at ``store``.
    ValueError
        ``max_samples`` < 1, or the store fails the benchmark schema check.
    """
    from prelib.data.datasets import BenchmarkDataset

    store = Path(store)
    if not store.exists():
        raise FileNotFoundError(f"no benchmark store at {store}")
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"--max-samples must be >= 1, got {max_samples}")
    dataset = BenchmarkDataset.from_zarr(store)
    n = len(dataset) if max_samples is None else min(max_samples, len(dataset))
    raws = [dataset.raw(i) for i in range(n)]
    ir = np.stack([r["ir"] for r in raws]).astype(np.float32)
    precip = np.stack([r["precip"] for r in raws]).astype(np.float32)
    return ir, precip


def _default_store(args: argparse.Namespace) -> Path:
    from prelib.config import resolve
    from prelib.workflow import RunLayout, ensure_benchmarks

    cfg = resolve(args.profile)
    layout = RunLayout(args.run_dir or RunLayout.for_run(cfg).root, args.data_dir)
    return ensure_benchmarks(cfg, layout, ("fulldisc",), ("train",))["fulldisc", "train"]


def run(args: argparse.Namespace) -> int:
    """Fit and save; returns 0."""
    from prelib.atomic import check_output
    from prelib.baselines import get_baseline
    from prelib.paths import profile_output_dir

    out = args.out or fitted_baseline_path(
        args.run_dir or profile_output_dir(args.profile), args.name
    )
    if out.suffix.lower() != ".npz":
        raise ValueError(f"--out {out}: baselines are saved as pickle-free .npz files")
    check_output(out)
    if args.max_pixels < 1:
        raise ValueError(f"--max-pixels must be >= 1, got {args.max_pixels}")
    store = args.store if args.store is not None else _default_store(args)
    ir, precip = read_training_arrays(store, args.max_samples)
    settings = {
        "gbm": {"max_pixels": args.max_pixels, "seed": args.seed},
        "persiann_ccs": {"seed": args.seed},
    }.get(args.name, {})
    model = get_baseline(args.name, **settings).fit(ir, precip, np.isfinite(precip))
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    print(f"wrote {out}: {args.name} fitted on {len(ir)} samples of {store}")
    return 0
