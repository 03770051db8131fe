"""Skill of the classical IR baselines on the synthetic Full-IPR benchmark.

Fits GPI (original and fitted rate), the Auto-Estimator, the PERSIANN-CCS-style retrieval and
the gradient-boosting baseline on training samples and scores them on test samples with the
paper's metrics (``prelib.evaluation.scoring.score_arrays``: RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8,
pooled).

    python benchmarks/training_baselines.py --profile demo --n-train 24 --n-test 8

Samples are generated on the fly from the synthetic world (nothing is stored). Prints a table and
the fit/predict seconds; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _arrays(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    raws = [dataset.raw(i) for i in range(len(dataset))]
    ir = np.stack([r["ir"] for r in raws]).astype(np.float32)
    precip = np.stack([r["precip"] for r in raws]).astype(np.float32)
    return ir, precip, np.isfinite(precip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--n-train", type=int, default=24)
    parser.add_argument("--n-test", type=int, default=8)
    args = parser.parse_args()

    from prelib.baselines import get_baseline
    from prelib.config import resolve
    from prelib.data.datasets import BenchmarkDataset
    from prelib.evaluation.scoring import score_arrays

    started = time.perf_counter()
    data = resolve(args.profile).data
    train = _arrays(BenchmarkDataset.simulated("fulldisc", "train", data, args.n_train))
    test_ir, test_precip, test_valid = _arrays(
        BenchmarkDataset.simulated("fulldisc", "test", data, args.n_test)
    )
    print(
        f"generated {args.n_train} + {args.n_test} samples in {time.perf_counter() - started:.0f} s"
    )
    candidates = {
        "GPI (3 mm/h)": get_baseline("gpi"),
        "GPI (fitted rate)": get_baseline("gpi", fit_rate=True),
        "Auto-Estimator": get_baseline("ae"),
        "AE (refitted a, b)": get_baseline("ae", fit_coefficients=True),
        "PERSIANN-CCS-style": get_baseline("persiann_ccs"),
        "gradient boosting": get_baseline("gbm"),
    }
    constant = float(np.nanmean(np.where(train[2], train[1], np.nan)))
    rows = [("constant (train mean)", np.full(test_precip.shape, constant, np.float32), 0.0, 0.0)]
    for name, model in candidates.items():
        t0 = time.perf_counter()
        model.fit(*train)
        t1 = time.perf_counter()
        pred = model.predict(test_ir)
        rows.append((name, pred, t1 - t0, time.perf_counter() - t1))
    keys = ("rmse", "cc", "pod", "far", "csi", "csi4", "csi8")
    print(f"{'method':24s}" + "".join(f"{k:>8s}" for k in keys) + "   fit s  pred s")
    for name, pred, fit_s, pred_s in rows:
        scores = score_arrays(pred, test_precip, test_valid)
        values = [scores.get(k, scores.get(k.replace("csi", "csi_"), np.nan)) for k in keys]
        print(f"{name:24s}" + "".join(f"{v:8.3f}" for v in values) + f"{fit_s:8.1f}{pred_s:8.1f}")


if __name__ == "__main__":
    main()
