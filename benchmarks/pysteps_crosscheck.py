"""prelib's RAPSD, spectral slope and RainFARM against pysteps' (``pip install pysteps``).

Printed, in one run:

1. **RAPSD** — prelib's :func:`~prelib.metrics.spectrum.radial_power_spectrum` against
   ``pysteps.utils.spectral.rapsd`` on random square, odd and non-square fields: the largest
   relative difference on the wavenumbers both return.
2. **Spectral slope** — prelib's :func:`~prelib.metrics.spectrum.spectral_slope` (log-log
   fit of the radially averaged spectrum, all wavenumbers) against the slope pysteps' RainFARM
   fits (``downscale(..., return_alpha=True)``: log-log fit over every 2-D Fourier coefficient,
   the outer sixth of the log-wavenumber range trimmed at both ends), on Gaussian power-law
   fields of known slope and on coarse radar fields.
3. **RainFARM** — prelib's ``rainfarm_downscale`` against ``pysteps.downscaling.rainfarm.downscale``
   (no smoothing kernel, no spectral fusion, and with its Gaussian kernel) on real radar
   (MRMS 1 km, 10 × 10 block means as the coarse input) or, without the data, on synthetic
   log-normal rain: box-mean error (mass conservation), the small-scale power ratio against the
   fine truth, the output's fine-scale slope, wet fraction and the member RMSE; each with its
   own fitted slope and with the other's.

Usage (≈ 1 CPU-minute)::

    python benchmarks/pysteps_crosscheck.py [--members 8] [--patches 4]

The radar file comes from ``PRELIB_SHARED_DATA`` (``<dir>/mrms/mrms_preciprate_20190610.nc``);
without it the synthetic fields are used.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def _rainfarm():
    """prelib's RainFARM through its public import (the module may live in ``baselines``)."""
    from prelib.baselines.rainfarm import rainfarm_downscale

    return rainfarm_downscale


def power_law_field(shape: tuple[int, int], alpha: float, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian field with ``P(k) ∝ k^-alpha`` (random phases and Rayleigh amplitudes)."""
    ky = np.fft.fftfreq(shape[0]) * shape[0]
    kx = np.fft.fftfreq(shape[1]) * shape[1]
    k = np.hypot(*np.meshgrid(ky, kx, indexing="ij"))
    amplitude = np.where(k > 0, np.maximum(k, 1e-9) ** (-alpha / 2.0), 0.0)
    noise = np.fft.fft2(rng.standard_normal(shape))
    field = np.real(np.fft.ifft2(noise * amplitude))
    return (field - field.mean()) / field.std()


def rapsd_table() -> list[tuple[str, int, float]]:
    from pysteps.utils.spectral import rapsd

    from prelib.metrics.spectrum import radial_power_spectrum

    rng = np.random.default_rng(0)
    rows = []
    for shape in ((64, 64), (128, 128), (63, 63), (64, 96)):
        field = rng.gamma(0.5, 2.0, shape)
        _, ours = radial_power_spectrum(field)
        theirs = rapsd(field - field.mean(), fft_method=np.fft)
        n = min(len(ours), len(theirs) - 1)
        diff = np.abs(ours[:n] - theirs[1 : n + 1]) / np.abs(theirs[1 : n + 1])
        rows.append((f"{shape[0]}x{shape[1]}", n, float(diff.max())))
    return rows


def slope_table(coarse_fields: list[np.ndarray]) -> list[tuple[str, float, float, float, float]]:
    from pysteps.downscaling.rainfarm import downscale

    from prelib.metrics.spectrum import spectral_slope

    rng = np.random.default_rng(1)
    rows = []
    for alpha in (1.5, 2.5, 3.5):
        ours, theirs = [], []
        for _ in range(20):
            field = power_law_field((64, 64), alpha, rng)
            ours.append(spectral_slope(field))
            theirs.append(downscale(field, 2, return_alpha=True)[1])
        rows.append((f"Gaussian 64x64, true {alpha}", *_mean_sd(ours), *_mean_sd(theirs)))
    ours = [spectral_slope(c) for c in coarse_fields]
    theirs = [downscale(c, 2, return_alpha=True)[1] for c in coarse_fields]
    rows.append(("coarse rain patches", *_mean_sd(ours), *_mean_sd(theirs)))
    return rows


def _mean_sd(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std())


def rain_patches(
    path: Path | None, n_patches: int, coarse_size: int, factor: int
) -> tuple[list[np.ndarray], str]:
    """Fine truth patches (coarse_size·factor)²: the wettest complete MRMS windows, or synthetic."""
    side = coarse_size * factor
    if path is not None:
        import xarray as xr

        with xr.open_dataset(path) as ds:
            frame = ds["precip_rate"].isel(time=0).values.astype(np.float32)
        h, w = (frame.shape[0] // side) * side, (frame.shape[1] // side) * side
        blocks = frame[:h, :w].reshape(h // side, side, w // side, side).swapaxes(1, 2)
        complete = np.isfinite(blocks).all(axis=(2, 3))
        wet = np.where(complete, (np.nan_to_num(blocks) > 0.1).mean(axis=(2, 3)), -1.0)
        order = np.argsort(wet, axis=None)[::-1][:n_patches]
        picks = [blocks[np.unravel_index(i, wet.shape)] for i in order]
        return [np.asarray(p, dtype=np.float64) for p in picks], f"MRMS 1 km ({path.name})"
    rng = np.random.default_rng(2)
    patches = []
    for _ in range(n_patches):
        log_rain = power_law_field((side, side), 3.0, rng)
        patches.append(np.where(log_rain > 0.3, np.exp(1.2 * log_rain) - 1.0, 0.0))
    return patches, "synthetic log-normal rain (no MRMS file)"


def rainfarm_table(fine_patches, factor: int, members: int):
    from pysteps.downscaling.rainfarm import downscale

    from prelib.data.precip_grids import coarsen
    from prelib.metrics.spectrum import radial_power_spectrum, small_scale_power_ratio

    rainfarm_downscale = _rainfarm()
    variants = {
        "prelib (own slope)": lambda c, s, a: rainfarm_downscale(c, factor, alpha=a, seed=s)[0],
        "pysteps (own slope)": lambda c, s, a: _pysteps(downscale, c, factor, s, a, None),
        "pysteps, gaussian kernel": lambda c, s, a: _pysteps(
            downscale, c, factor, s, a, "gaussian"
        ),
    }
    warm = coarsen(fine_patches[0], factor, "mean")  # first calls pay imports and FFT plans
    for run in variants.values():
        run(warm, 0, None)
    rows = []
    for slope_source in ("own", "prelib", "pysteps"):
        for name, run in variants.items():
            if slope_source != "own" and "kernel" in name:
                continue
            stats = {k: [] for k in ("mass", "ratio", "slope", "wet", "rmse", "seconds")}
            for patch in fine_patches:
                coarse = coarsen(patch, factor, "mean")
                alpha = None
                if slope_source == "prelib":
                    from prelib.metrics.spectrum import spectral_slope

                    alpha = spectral_slope(coarse)
                elif slope_source == "pysteps":
                    alpha = downscale(coarse, factor, return_alpha=True)[1]
                outs = []
                start = time.perf_counter()
                for member in range(members):
                    outs.append(np.asarray(run(coarse, member, alpha), dtype=np.float64))
                stats["seconds"].append((time.perf_counter() - start) / members)
                outs = np.stack(outs)
                box = np.stack([coarsen(o, factor, "mean") for o in outs])
                stats["mass"].append(float(np.abs(box - coarse).max() / max(coarse.max(), 1e-9)))
                stats["ratio"].append(
                    small_scale_power_ratio(outs, np.stack([patch] * members), factor)
                )
                k, p = radial_power_spectrum(outs)
                small = (k > len(k) / factor) & (p > 0)
                stats["slope"].append(float(-np.polyfit(np.log(k[small]), np.log(p[small]), 1)[0]))
                stats["wet"].append(float((outs >= 0.1).mean() / max((patch >= 0.1).mean(), 1e-9)))
                stats["rmse"].append(float(np.sqrt(((outs - patch) ** 2).mean())))
            label = (
                name
                if slope_source == "own"
                else f"{name.split(' (')[0]} (slope of {slope_source})"
            )
            rows.append((label, {k: float(np.mean(v)) for k, v in stats.items()}))
    truth_k, truth_p = radial_power_spectrum(np.stack(fine_patches))
    small = (truth_k > len(truth_k) / factor) & (truth_p > 0)
    truth_slope = float(-np.polyfit(np.log(truth_k[small]), np.log(truth_p[small]), 1)[0])
    return rows, truth_slope


def _pysteps(downscale, coarse, factor, seed, alpha, kernel):
    np.random.seed(seed)  # noqa: NPY002 (pysteps draws from NumPy's global generator)
    return downscale(coarse, factor, alpha=alpha, kernel_type=kernel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--patches", type=int, default=4)
    parser.add_argument("--coarse-size", type=int, default=32)
    parser.add_argument("--factor", type=int, default=10)
    args = parser.parse_args()
    from prelib.paths import shared_data_dir

    root = shared_data_dir()
    path = None if root is None else root / "mrms" / "mrms_preciprate_20190610.nc"
    path = path if path is not None and path.is_file() else None
    fine, source = rain_patches(path, args.patches, args.coarse_size, args.factor)
    print("## 1. RAPSD: prelib radial_power_spectrum vs pysteps rapsd (mean removed)\n")
    print("| field | common wavenumbers | max relative difference |\n|---|---|---|")
    for shape, n, diff in rapsd_table():
        print(f"| {shape} | {n} | {diff:.2e} |")
    print("\n## 2. Spectral slope alpha: mean ± sd\n")
    print("| fields | prelib spectral_slope | pysteps RainFARM alpha |\n|---|---|---|")
    from prelib.data.precip_grids import coarsen

    coarse = [coarsen(p, args.factor, "mean") for p in fine]
    for name, m1, s1, m2, s2 in slope_table(coarse):
        print(f"| {name} | {m1:.2f} ± {s1:.2f} | {m2:.2f} ± {s2:.2f} |")
    print(
        f"\n## 3. RainFARM x{args.factor}, {len(fine)} patches of {source}, "
        f"{args.members} members each\n"
    )
    rows, truth_slope = rainfarm_table(fine, args.factor, args.members)
    print(
        "| variant | box-mean error (rel.) | small-scale power ratio | fine slope "
        f"(truth {truth_slope:.2f}) | wet fraction / truth | RMSE mm h-1 | s per member |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, s in rows:
        print(
            f"| {label} | {s['mass']:.1e} | {s['ratio']:.2f} | {s['slope']:.2f} | "
            f"{s['wet']:.2f} | {s['rmse']:.3f} | {s['seconds']:.3f} |"
        )


if __name__ == "__main__":
    main()
