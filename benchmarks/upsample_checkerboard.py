"""Transposed convolution vs resize-convolution in the IR-only UNet: texture and skill.

Trains the same UNet (same seed, data order and steps) twice on a Full-IPR training store, once
with the paper's 2 × 2 stride-2 ``ConvTranspose2d`` decoder and once with resize-convolution
(bilinear 2× then 3 × 3 conv, ``upsample: resize_conv``), and prints for each on the test store:

* RMSE (mm h-1) and CSI at 0.1 mm h-1 of the rain rate (regression output, clipped at 0);
* the *Nyquist power* of the network's raw output (percent of its variance at the 2-pixel
  period, :func:`nyquist_power_fraction`): where the 2-pixel stripe / checkerboard of a stride-2
  transposed convolution lives, and where a smooth field has almost none.

Usage (a few CPU-minutes; data from ``prelib simulate build --kind fulldisc`` or notebook 01)::

    python benchmarks/upsample_checkerboard.py --data outputs/workshop/01_data_catalog/data/\\
        synthetic/workshop/seed0 --steps 24 --base-width 16
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from prelib.conventions import RAIN_THRESHOLD
from prelib.data.datasets import BenchmarkDataset
from prelib.models.blocks import UPSAMPLE_MODES
from prelib.models.config import UNetConfig
from prelib.models.unet import UNet


def nyquist_power_fraction(field: np.ndarray) -> float:
    """Share of the field's variance at the 2-pixel period (frequency 1/2 along either axis).

    A stride-2 transposed convolution paints every 2 × 2 output block from one input pixel;
    its stripes and checkerboard put power exactly on the Nyquist row and column of the 2-D
    spectrum, where a smooth field (and bilinear interpolation) has almost none.
    """
    values = np.asarray(field, dtype=np.float64)
    values = values[: values.shape[0] // 2 * 2, : values.shape[1] // 2 * 2]
    power = np.abs(np.fft.fft2(values - values.mean())) ** 2
    total = power.sum()
    if total <= 0:
        return 0.0
    ny, nx = power.shape
    nyquist = power[ny // 2, :].sum() + power[:, nx // 2].sum() - power[ny // 2, nx // 2]
    return float(nyquist / total)


def train_and_score(mode, train, test, steps, base_width, batch_size, seed):
    torch.manual_seed(seed)
    model = UNet(UNetConfig(base_width=base_width, upsample=mode))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(seed).permutation(
        np.resize(np.arange(len(train)), steps * batch_size)
    )
    started = time.perf_counter()
    model.train()
    for step in range(steps):
        items = [train[int(i)] for i in order[step * batch_size : (step + 1) * batch_size]]
        x = torch.stack([item["ir"] for item in items])
        y = torch.stack([item["precip"] for item in items])
        valid = torch.stack([item["valid"] for item in items])
        pred = model(x).logits[:, 0]
        loss = ((pred - y)[valid] ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    seconds = time.perf_counter() - started
    model.eval()
    squared, hits, misses, false, count, index = 0.0, 0, 0, 0, 0, []
    shown = int(np.argmax([float(test[i]["precip"].mean()) for i in range(len(test))]))
    example = None
    with torch.no_grad():
        for i in range(len(test)):
            item = test[i]
            raw = model(item["ir"][None]).logits[0, 0].numpy()
            pred = np.clip(raw, 0, None)
            truth, valid = item["precip"].numpy(), item["valid"].numpy()
            squared += float(((pred - truth)[valid] ** 2).sum())
            count += int(valid.sum())
            wet_p, wet_t = pred >= RAIN_THRESHOLD, truth >= RAIN_THRESHOLD
            hits += int((wet_p & wet_t & valid).sum())
            misses += int((~wet_p & wet_t & valid).sum())
            false += int((wet_p & ~wet_t & valid).sum())
            index.append(nyquist_power_fraction(raw))  # the network's texture, before clipping
            if i == shown:
                example = pred
    csi = hits / max(hits + misses + false, 1)
    return {
        "rmse": (squared / max(count, 1)) ** 0.5,
        "csi": csi,
        "nyquist_fraction": float(np.mean(index)),
        "train_s": seconds,
        "example": example,
        "example_truth": test[shown]["precip"].numpy(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with fulldisc_*.zarr")
    parser.add_argument("--steps", type=int, default=24, help="optimiser steps per model")
    parser.add_argument("--base-width", type=int, default=16, help="UNet base width")
    parser.add_argument("--batch-size", type=int, default=4, help="samples per step")
    parser.add_argument("--seed", type=int, default=0, help="initialisation and data order")
    parser.add_argument("--figure", type=Path, default=None, help="PNG of the wettest test patch")
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = BenchmarkDataset.from_zarr(args.data / "fulldisc_train.zarr")
    test = BenchmarkDataset.from_zarr(args.data / "fulldisc_test.zarr")
    print(
        f"UNet base width {args.base_width}, {args.steps} steps x {args.batch_size}, "
        f"{len(train)} train / {len(test)} test Full-IPR samples"
    )
    print(f"{'upsample':12s} {'RMSE':>7s} {'CSI':>6s} {'Nyquist %':>10s} {'train s':>8s}")
    examples = {}
    for mode in UPSAMPLE_MODES:
        r = train_and_score(
            mode, train, test, args.steps, args.base_width, args.batch_size, args.seed
        )
        examples.setdefault("truth", r["example_truth"])
        examples[mode] = r["example"]
        print(
            f"{mode:12s} {r['rmse']:7.3f} {r['csi']:6.3f} {100 * r['nyquist_fraction']:10.3f} "
            f"{r['train_s']:8.1f}"
        )
    if args.figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        from prelib.notebook import save_figure
        from prelib.plotting.skill import plot_field_panels

        fig = plot_field_panels(examples, ncols=3, domain_km=4.0 * 256, panel_size=4.0)
        print(save_figure(fig, args.figure.parent, args.figure.stem))


if __name__ == "__main__":
    main()
