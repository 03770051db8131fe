"""Downscaling ×10 on real radar: learned methods against interpolation, QM and RainFARM.

The fine truth is a real radar field (default: the MRMS 1 km sample, 36 two-minute frames of
2019-06-10), the coarse input its exact 10 × 10 block mean (``--bias none``: pure downscaling, no
product error). Frames are split by time — train, validation (best epoch, PrecipDiff's wet/dry
threshold), test — and every method is scored on the test patches, once per seed. Printed:

1. the MAUNet ablation that answers "why does MAUNet not beat bicubic?" — the same network
   trained with the log-space MSE and a residual output (the former default), with the
   rate-space MSE, and with the rate-space MSE and the mass-conserving (softmax-constraint)
   output, each keeping its best validation epoch;
2. the method table, mean ± standard deviation over the seeds, in Markdown.

Usage (≈ 35 CPU-minutes per seed on one thread of a loaded 2-core machine; PrecipDiff's
sampling is half of it)::

    python benchmarks/downscaling_real_radar.py --fine mrms.nc --n-train 512 --n-val 64 \
        --n-test 128 --save-pairs pairs.npz        # cut the patches once
    nice -n 10 python benchmarks/downscaling_real_radar.py --pairs pairs.npz --seeds 0 1 2 \
        --n-train 256 --n-val 48 --n-test 112 --epochs 8 --diffusion-epochs 8 --members 6
    # MAUNet alone at twice the budget (≈ 5.5 CPU-minutes per seed)
    nice -n 10 python benchmarks/downscaling_real_radar.py --pairs pairs.npz --seeds 0 1 2 \
        --n-train 512 --n-val 48 --n-test 112 --epochs 16 --methods bicubic,maunet

The file path may also come from ``PRELIB_SHARED_DATA`` (``<dir>/mrms/mrms_preciprate_*.nc``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ABLATION: dict[str, dict[str, str]] = {
    "maunet log-mse residual": {"maunet_loss": "log-mse", "maunet_output": "residual"},
    "maunet mse residual": {"maunet_loss": "mse", "maunet_output": "residual"},
    "maunet mse conservative": {"maunet_loss": "mse", "maunet_output": "conservative"},
}
TABLE_COLUMNS = ["rmse", "cc", "crps", "csi@1", "member_csi@0.1", "false_wet", "spread_skill"]


def default_file() -> Path | None:
    """The MRMS sample of the developers' data folder (``PRELIB_SHARED_DATA``), if present."""
    from prelib.paths import shared_data_dir

    root = shared_data_dir()
    path = None if root is None else root / "mrms" / "mrms_preciprate_20190610.nc"
    return path if path is not None and path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fine", type=Path, default=None)
    parser.add_argument("--var", default=None)
    parser.add_argument("--region", default="25,50,-110,-70")
    parser.add_argument("--train-times", default="0:24")
    parser.add_argument("--val-times", default="24:28")
    parser.add_argument("--test-times", default="28:36")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=768)
    parser.add_argument("--n-val", type=int, default=64)
    parser.add_argument("--n-test", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--diffusion-epochs", type=int, default=12)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-ablation", action="store_true")
    parser.add_argument(
        "--methods", default=None, help="comma-separated subset (default: all but regression-mean)"
    )
    parser.add_argument("--output", type=Path, default=None, help="write the tables here (csv)")
    parser.add_argument("--pairs", type=Path, default=None, help="read pairs from this .npz")
    parser.add_argument("--save-pairs", type=Path, default=None, help="write pairs, then stop")
    args = parser.parse_args()

    from prelib.downscaling.config import load_downscaling_config
    from prelib.downscaling.evaluation import evaluation_table, to_markdown
    from prelib.downscaling.experiment import run_methods, train_models
    from prelib.downscaling.user_data import PairRequest, build_user_pairs, parse_region
    from prelib.downscaling.user_fields import FieldSource

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    path = args.fine or default_file()
    if path is None and args.pairs is None:
        raise SystemExit("no radar file: pass --fine or set PRELIB_SHARED_DATA")
    from prelib.downscaling.experiment import parse_methods

    methods = parse_methods(
        args.methods
        or "bilinear,bicubic,qm+bilinear,rainfarm,maunet,maunet-light,maunet-light-kr,precipdiff"
    )
    with_precipdiff = "precipdiff" in methods
    from prelib.downscaling.data import DownscalingPairs
    from prelib.downscaling.evaluation import MethodOutput, score_output

    tables, ablation_rows = [], []
    for seed in args.seeds:
        start = time.perf_counter()
        config = load_downscaling_config(
            "demo",
            seed=seed,
            n_train=args.n_train,
            n_test=args.n_test,
            epochs_maunet=args.epochs,
            epochs_student=args.epochs,
            epochs_diffusion=args.diffusion_epochs,
            n_members=args.members,
            maunet_loss="mse",
            maunet_output="conservative",
        )
        if args.pairs is not None:
            stored = np.load(args.pairs)
            caps = {"train": args.n_train, "val": args.n_val, "test": args.n_test}
            splits = {
                split: DownscalingPairs(
                    stored[f"{split}_fine"][: caps[split]],
                    stored[f"{split}_coarse"][: caps[split]],
                    10,
                )
                for split in ("train", "val", "test")
            }
        else:
            request = PairRequest(
                FieldSource((path,), args.var),
                {"train": args.train_times, "val": args.val_times, "test": args.test_times},
                parse_region(args.region),
                "none",
            )
            caps = {"train": args.n_train, "val": args.n_val, "test": args.n_test}
            splits = build_user_pairs(request, 10, config.patch, None, 0.05, caps, seed)
            if args.save_pairs is not None:
                np.savez_compressed(
                    args.save_pairs,
                    **{f"{k}_fine": v.fine for k, v in splits.items()},
                    **{f"{k}_coarse": v.satellite for k, v in splits.items()},
                )
                print(f"pairs written to {args.save_pairs}")
                return
        train, val, test = splits["train"], splits["val"], splits["test"]
        print(f"seed {seed}: {len(train)} train, {len(val)} val, {len(test)} test patches")
        models, _ = train_models(config, train, None, methods, val)
        print(f"  trained in {time.perf_counter() - start:.0f} s", flush=True)
        others = tuple(m for m in methods if m != "precipdiff")
        outputs = run_methods(config, models, train, test, others)
        threshold = float("nan")
        if with_precipdiff:
            raw = models["precipdiff"].predict(test.satellite, config.n_members, seed, False)
            threshold = float(models["precipdiff"].wet_threshold)
            calibrated = np.where(raw < threshold, np.float32(0.0), raw)
            outputs.append(MethodOutput("precipdiff", calibrated))
        table = evaluation_table(outputs, test.fine, 10)
        if with_precipdiff:
            no_threshold = score_output(MethodOutput("precipdiff-raw", raw), test.fine, 10)
            table.loc["precipdiff (no wet/dry threshold)"] = pd.Series(no_threshold)
        table["seed"] = seed
        tables.append(table)
        print(
            f"  seed {seed}: methods done at {time.perf_counter() - start:.0f} s "
            f"(PrecipDiff wet threshold {threshold:.3f} mm/h)",
            flush=True,
        )
        if not args.skip_ablation:
            ablation_rows.append(
                {"seed": seed, "variant": "maunet mse conservative", **table.loc["maunet"]}
            )
            for name, overrides in ABLATION.items():
                if name == "maunet mse conservative":
                    continue  # the main table's MAUNet
                variant = config.replace(**overrides)
                variant_models, _ = train_models(variant, train, None, ("maunet",), val)
                variant_table = evaluation_table(
                    run_methods(variant, variant_models, train, test, ("maunet",)), test.fine, 10
                )
                ablation_rows.append({"seed": seed, "variant": name, **variant_table.loc["maunet"]})
                print(f"  {name}: RMSE {variant_table.loc['maunet', 'rmse']:.3f}", flush=True)
        if args.output is not None:
            args.output.mkdir(parents=True, exist_ok=True)
            table.to_csv(args.output / f"real_radar_methods_seed{seed}.csv")
            pd.DataFrame(ablation_rows).to_csv(args.output / f"real_radar_ablation_upto{seed}.csv")
        print(f"  seed {seed} done in {time.perf_counter() - start:.0f} s", flush=True)
    everything = pd.concat(tables)
    everything.index.name = "method"
    grouped = everything.drop(columns="seed").groupby(level=0, sort=False)
    mean, std = grouped.mean(), grouped.std()
    print(f"\n{len(args.seeds)} seed(s), {len(test)} test patches of 80 x 80 px, x10 block mean")
    cells = mean[TABLE_COLUMNS].copy().astype(object)
    for column in TABLE_COLUMNS:
        cells[column] = [
            "–" if np.isnan(m) else f"{m:.3f} ± {s:.3f}" if np.isfinite(s) else f"{m:.3f}"
            for m, s in zip(mean[column], std[column], strict=True)
        ]
    print(to_markdown(cells))
    if ablation_rows:
        ablation = pd.DataFrame(ablation_rows).groupby("variant", sort=False)["rmse"]
        print("MAUNet ablation (test RMSE, mm/h, mean ± std over seeds):")
        for name, values in ablation:
            print(f"  {name:28s} {values.mean():.3f} ± {values.std():.3f}")


if __name__ == "__main__":
    main()
