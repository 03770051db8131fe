"""How hard the synthetic world is, measured with baselines (``prelib simulate calibrate``).

Three measurements, all with baselines and never with PRE-Net (the world must be calibrated
independently of the method it is meant to test):

1. **per-pixel probe** (:func:`prelib.sim.calibration.calibrate_modalities`): what IR, PMW, PR
   and all sensors know about the label pixel by pixel (paper Table 8);
2. **instant-vs-hourly ceiling**: the instantaneous surface rain itself scored against the
   hourly label — the best any snapshot sensor could do pixel by pixel;
3. **Swath-MPR → Full-IPR shift** (:func:`measure_domain_shift`): a small IR-only U-Net trained
   on swath scenes (2021) is scored on held-out swath scenes (2022) and, unadapted, on disc
   patches (2023); a second U-Net of the same size trained on disc patches (2022) is the
   in-domain reference. The paper's analogue is Table 4: its swath-distilled student without
   Stage II falls to CSI 0.107 on Full-IPR, against 0.287 for a U-Net trained on the disc.

What differs between the two kinds of scene is physical and geometric only (see
:mod:`prelib.sim.ir` and :mod:`prelib.sim.scene`): 5 km swath pixels in tilted scan geometry
resampled from the geostationary image versus the disc's own 4 km pixels, the IR scan time
relative to the label hour, and the year (calibration offsets). Local-time and season sampling
are the same (GPM's 65° precessing orbit samples every local hour over its 46-day cycle), and
patch shape and positional encodings are the model's side, which this measurement holds fixed
by using a plain convolutional U-Net.
"""

from __future__ import annotations

import time as _time

import numpy as np
import pandas as pd

from prelib.conventions import DOMAIN_LAT, DOMAIN_LON, IR_NORM, RAIN_THRESHOLD
from prelib.sim.calibration import (
    calibrate_modalities,
    ir_threshold_csi,
    regime_statistics,
    simulate_calibration_scenes,
    skill_scores,
)
from prelib.sim.scene import simulate_grid_scene

SHIFT_TARGET_LOSS = 0.30
"""Target: the swath-trained IR U-Net loses at least this fraction of its swath CSI on the disc."""

PAPER_SHIFT: dict[str, float] = {
    "swath_csi": 0.3322,
    "disc_csi_unadapted": 0.1066,
    "disc_csi_from_scratch": 0.2869,
}
"""Paper anchors: the CoMWE student's Swath-MPR CSI (Table 2), the same student on Full-IPR
without Stage II (Table 4 row 3) and a U-Net trained on Full-IPR (Table 4 row 1)."""

MIN_WET_FRACTION = 0.03
"""Scenes with fewer label pixels ≥ 0.1 mm h-1 are dropped, as the paper drops patches with
little or no rain (it gives no threshold)."""


def _wet_enough(scene) -> bool:
    return float(np.mean(scene["precip"].values >= RAIN_THRESHOLD)) >= MIN_WET_FRACTION


def simulate_disc_patches(
    n_patches: int, seed: int, year: int, size: int = 128, progress: bool = False
) -> list:
    """``n_patches`` wet IR disc patches (4 km, ``size`` × ``size``) at random places and hours.

    Places are uniform over the study domain (so they include the limb-ward north-east) and
    hours uniform over ``year``; dry draws are replaced by new ones (at most 20 per patch).
    """
    from tqdm.auto import tqdm

    rng = np.random.default_rng([seed, year, 4])
    extent = size * 0.04
    start = np.datetime64(f"{year}-01-01T00", "h")
    patches: list = []
    bar = tqdm(total=n_patches, desc=f"disc patches {year}", disable=not progress, leave=False)
    for _ in range(20 * n_patches):
        if len(patches) == n_patches:
            break
        lat0 = float(rng.uniform(DOMAIN_LAT[0], DOMAIN_LAT[1] - extent))
        lon0 = float(rng.uniform(DOMAIN_LON[0], DOMAIN_LON[1] - extent))
        hour = start + np.timedelta64(int(rng.integers(0, 365 * 24)), "h")
        box = (round(lat0, 2), round(lat0 + extent, 2)), (round(lon0, 2), round(lon0 + extent, 2))
        scene = simulate_grid_scene(*box, hour, seed=seed, sensors=("ir",))
        if _wet_enough(scene):
            patches.append(scene)
            bar.update()
    bar.close()
    if len(patches) < n_patches:
        raise RuntimeError(f"only {len(patches)} of {n_patches} disc patches were wet enough")
    return patches


def _arrays(scenes) -> tuple[np.ndarray, np.ndarray]:
    offset, scale = IR_NORM
    x = np.stack([(s["ir"].values - offset) / scale for s in scenes]).astype(np.float32)
    y = np.stack([s["precip"].values for s in scenes]).astype(np.float32)
    return x, y


def _train_unet(x, y, seed: int, steps: int, batch: int, base_width: int):
    """Train a small IR U-Net with a rain/no-rain head (cross-entropy) and a log-rate head."""
    import torch
    import torch.nn.functional as F

    from prelib.models.unet import UNet

    torch.manual_seed(seed)
    model = UNet(n_classes=2, base_width=base_width)
    # Two heads as the paper's students have: rain/no-rain logits and a log-rate channel.
    model.head = torch.nn.Conv2d(model.head.in_channels, 3, kernel_size=1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    rng = np.random.default_rng(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(steps):
        index = torch.from_numpy(rng.choice(len(x), size=min(batch, len(x)), replace=False))
        xb, yb = xt[index], yt[index]
        if rng.uniform() < 0.5:  # flips: the rain field has no preferred direction
            xb, yb = xb.flip(-1), yb.flip(-1)
        out = model(xb).logits
        wet = (yb >= RAIN_THRESHOLD).long()
        loss = F.cross_entropy(out[:, :2], wet) + F.mse_loss(out[:, 2], torch.log1p(yb))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    model.eval()
    return model


def _score_unet(model, x, y, batch: int = 8) -> dict[str, float]:
    import torch

    predictions = []
    with torch.inference_mode():
        for start in range(0, len(x), batch):
            out = model(torch.from_numpy(x[start : start + batch])).logits
            rain = out[:, 1] > out[:, 0]
            amount = torch.expm1(out[:, 2]).clamp_min(0.0)
            predictions.append(torch.where(rain, amount, 0.0).numpy())
    return skill_scores(np.concatenate(predictions), y)


def measure_domain_shift(
    train_swaths: list,
    test_swaths: list,
    train_discs: list,
    test_discs: list,
    seed: int = 0,
    steps: int = 300,
    batch: int = 8,
    base_width: int = 8,
    n_threads: int = 1,
) -> pd.DataFrame:
    """Train IR-only U-Nets on swaths and on disc patches and score both on both domains.

    Parameters
    ----------
    train_swaths, test_swaths : list of xarray.Dataset
        Swath scenes (``ir``, ``precip`` on (scan, ray)) for training (2021) and testing (2022).
    train_discs, test_discs : list of xarray.Dataset
        Disc patches (``ir``, ``precip`` on (y, x)) for the in-domain reference (2022) and the
        test (2023).
    seed : int
        Seed of weights and batches.
    steps, batch, base_width : int
        Optimisation steps, batch size and U-Net base width (8: widths 8 … 128).
    n_threads : int
        Torch intra-op threads.

    Returns
    -------
    pandas.DataFrame
        Index ``(trained_on, tested_on)``; columns ``cc``, ``csi``, ``pod``, ``far``, ``rmse``.
        ``DataFrame.attrs`` holds ``csi_loss`` (1 − disc CSI / swath CSI of the swath-trained
        U-Net), ``target_loss`` and ``seconds``.
    """
    import torch

    started = _time.perf_counter()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        data = {
            "swath": (_arrays(train_swaths), _arrays(test_swaths)),
            "disc": (_arrays(train_discs), _arrays(test_discs)),
        }
        rows = []
        for trained_on in ("swath", "disc"):
            (x, y), _ = data[trained_on]
            model = _train_unet(x, y, seed, steps, batch, base_width)
            for tested_on in ("swath", "disc"):
                _, (x_test, y_test) = data[tested_on]
                scores = _score_unet(model, x_test, y_test)
                rows.append({"trained_on": trained_on, "tested_on": tested_on, **scores})
    finally:
        torch.set_num_threads(previous_threads)
    table = pd.DataFrame(rows).set_index(["trained_on", "tested_on"])
    swath_csi = table.loc[("swath", "swath"), "csi"]
    disc_csi = table.loc[("swath", "disc"), "csi"]
    table.attrs.update(
        csi_loss=float(1.0 - disc_csi / swath_csi) if swath_csi > 0 else float("nan"),
        target_loss=SHIFT_TARGET_LOSS,
        seconds=round(_time.perf_counter() - started, 1),
    )
    return table


def calibrate_world(
    seed: int = 0,
    n_train: int = 24,
    n_test: int = 12,
    n_scans: int = 128,
    n_shift_train: int = 96,
    n_shift_test: int = 32,
    shift_steps: int = 300,
    progress: bool = True,
) -> dict[str, pd.DataFrame]:
    """The whole calibration study in one seeded run.

    Parameters
    ----------
    seed : int
        World and sampling seed.
    n_train, n_test : int
        Swath scenes of the per-pixel probe (2021 train, 2022 test).
    n_scans : int
        Scans per swath scene.
    n_shift_train, n_shift_test : int
        Scenes per domain for training and testing the shift U-Nets (wet scenes only).
    shift_steps : int
        Optimisation steps of each U-Net.
    progress : bool
        Progress bars.

    Returns
    -------
    dict of pandas.DataFrame
        ``probe`` (per modality, with the paper's Table 8 figures), ``ceiling`` (the
        instantaneous rain scored against the label), ``shift`` (see
        :func:`measure_domain_shift`) and ``regimes`` (rain per regime in the probe's scenes,
        with the GPI-style IR probe's CSI per regime, ``ir_gpi_csi``).
    """
    started = _time.perf_counter()
    train = simulate_calibration_scenes(n_train, seed, 2021, n_scans, progress=progress)
    test = simulate_calibration_scenes(n_test, seed, 2022, n_scans, progress=progress)
    probe = calibrate_modalities(seed=seed, train_scenes=train, test_scenes=test, progress=progress)
    probe.attrs["ir_threshold_csi"] = ir_threshold_csi(test)
    instant = np.concatenate([s["precip_instant"].values.ravel() for s in test])
    label = np.concatenate([s["precip"].values.ravel() for s in test])
    ceiling = pd.DataFrame([{"predictor": "instantaneous rain", **skill_scores(instant, label)}])
    ceiling = ceiling.set_index("predictor")

    def wet_swaths(n, year):
        scenes = simulate_calibration_scenes(3 * n, seed + 1, year, n_scans, progress=progress)
        kept = [s for s in scenes if _wet_enough(s)][:n]
        if len(kept) < n:
            raise RuntimeError(f"only {len(kept)} of {n} swath scenes of {year} were wet enough")
        return kept

    shift = measure_domain_shift(
        wet_swaths(n_shift_train, 2021),
        wet_swaths(n_shift_test, 2022),
        simulate_disc_patches(n_shift_train, seed, 2022, progress=progress),
        simulate_disc_patches(n_shift_test, seed, 2023, progress=progress),
        seed=seed,
        steps=shift_steps,
    )
    regimes = regime_statistics(train + test)
    # How weak IR is per regime: the GPI-style oracle probe on each regime's scenes alone.
    regimes["ir_gpi_csi"] = [
        ir_threshold_csi([s for s in train + test if s.attrs["regime"] == regime])[0]
        for regime in regimes.index
    ]
    probe.attrs["seconds_total"] = round(_time.perf_counter() - started, 1)
    return {"probe": probe, "ceiling": ceiling, "shift": shift, "regimes": regimes}


def format_report(results: dict[str, pd.DataFrame]) -> str:
    """Plain-text report of :func:`calibrate_world`, with targets and the paper's figures."""

    def fmt(v):
        return f"{v:.3f}"

    probe, ceiling, shift = results["probe"], results["ceiling"], results["shift"]
    lines = ["Per-pixel probe (paper: Table 8 teacher)", probe.to_string(float_format=fmt)]
    if "ir_threshold_csi" in probe.attrs:
        csi, threshold = probe.attrs["ir_threshold_csi"]
        lines.append(
            f"GPI-style IR probe (rain where T10.8 < T0): CSI {csi:.3f} at T0 = {threshold:.0f} K"
        )
    lines.append("")
    targets = {
        "IR CSI <= 0.25": probe.loc["ir", "csi"] <= 0.25,
        "PMW CC >= 0.55": probe.loc["pmw", "cc"] >= 0.55,
        "PR CC >= 0.60": probe.loc["pr", "cc"] >= 0.60,
        "all >= each single sensor (CC and CSI)": all(
            probe.loc["all", m] >= probe.loc[s, m]
            for s in ("ir", "pmw", "pr")
            for m in ("cc", "csi")
        ),
    }
    lines += ["Instant-vs-hourly ceiling", ceiling.to_string(float_format=fmt), ""]
    lines += [
        "Swath-MPR -> Full-IPR shift, IR-only U-Net "
        f"(paper: swath student CSI {PAPER_SHIFT['swath_csi']}, unadapted on the disc "
        f"{PAPER_SHIFT['disc_csi_unadapted']}, U-Net trained on the disc "
        f"{PAPER_SHIFT['disc_csi_from_scratch']})",
        shift.to_string(float_format=fmt),
        f"CSI loss swath -> disc: {shift.attrs['csi_loss']:.1%} "
        f"(target >= {shift.attrs['target_loss']:.0%}; U-Nets took {shift.attrs['seconds']} s)",
        "",
    ]
    targets[f"shift CSI loss >= {SHIFT_TARGET_LOSS:.0%}"] = (
        shift.attrs["csi_loss"] >= SHIFT_TARGET_LOSS
    )
    lines += ["Rain per regime (hourly label)", results["regimes"].to_string(float_format=fmt), ""]
    lines += ["Targets"] + [
        f"  {'met' if ok else 'MISSED':6s}  {name}" for name, ok in targets.items()
    ]
    lines.append(f"total {probe.attrs.get('seconds_total', float('nan'))} s")
    return "\n".join(lines)
