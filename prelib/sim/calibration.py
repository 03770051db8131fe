"""How much each modality of the synthetic world knows about the label: the calibration study.

The paper's teacher ablation (Table 8; prenet_reference.md §10) measures, on real Swath-MPR
data, IR-only CC 0.34 / CSI 0.18, PMW-only 0.68 / 0.44, PR-only 0.70 / 0.45 and all modalities
0.72 / 0.47. A world meant to stand in for those data must reproduce that *ordering*: IR clearly
weak (it sees cloud tops, not rain), PMW and PR strong, all ≥ each. :func:`calibrate_modalities`
measures it with a simple probe — per-pixel gradient boosting (scikit-learn
``HistGradientBoostingRegressor`` for the amount and ``HistGradientBoostingClassifier`` for
rain/no rain, combined as the paper combines its two heads) trained on one modality's channels
at a time — on held-out scenes, and :func:`regime_statistics` summarises the rain each
regime produces.

The world reaches the ordering only through physical error sources, never by touching the
label: IR sees non-raining cirrus and anvils, misses warm rain, is parallax-displaced and
minutes away from the overpass; PMW is blurred by its footprints and, over land, sees ice
scattering but not the emission hidden by variable emissivity; PR misses drizzle below 13 dBZ,
loses the lowest kilometre to clutter, mixes its beam and reads rain through a per-cell Z–R
relation; and every instantaneous observation differs from the hourly, 0.0625°-averaged label.
:func:`ir_threshold_csi` is a parameter-free GPI-style IR probe. The study that also trains
U-Nets (the Swath-MPR → Full-IPR shift) lives above the world, in
:mod:`prelib.evaluation.world_calibration`, so that the simulator never imports models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prelib.conventions import RAIN_THRESHOLD, REGIMES
from prelib.sim.scene import simulate_swath_scene

MODALITY_SETS: dict[str, tuple[str, ...]] = {
    "ir": ("ir",),
    "pmw": ("pmw",),
    "pr": ("pr",),
    "all": ("ir", "pmw", "pr"),
}
"""Feature sets of the probe, named as in the paper's Table 8 rows 1, 2, 3 and 7."""

PAPER_TABLE8: dict[str, tuple[float, float]] = {
    "ir": (0.3408, 0.1831),
    "pmw": (0.6824, 0.4425),
    "pr": (0.7040, 0.4544),
    "all": (0.7213, 0.4710),
}
"""(CC, CSI) of the paper's teacher per modality set (rows 2-3 assignment inferred)."""


def _scene_times(rng: np.random.Generator, year: int, n: int) -> list[np.datetime64]:
    start = np.datetime64(f"{year}-01-01T00", "h")
    hours = rng.integers(0, 365 * 24, size=n)
    return [start + np.timedelta64(int(h), "h") for h in hours]


def simulate_calibration_scenes(
    n_scenes: int,
    seed: int,
    year: int,
    n_scans: int = 128,
    regime: str | None = None,
    progress: bool = False,
) -> list:
    """``n_scenes`` swath scenes at random hours of ``year`` (seeded), all sensors.

    Parameters
    ----------
    n_scenes : int
        Number of scenes.
    seed : int
        Seed of the hour draw and of the world.
    year : int
        Year of the scene times (the paper trains on 2021 and tests on 2022).
    n_scans : int
        Scans per scene.
    regime : str, optional
        Force one regime (``None``: climatology).
    progress : bool
        Show a progress bar.
    """
    from tqdm.auto import tqdm

    rng = np.random.default_rng([seed, year])
    times = _scene_times(rng, year, n_scenes)
    return [
        simulate_swath_scene(t, seed=seed, n_scans=n_scans, regime=regime)
        for t in tqdm(times, desc=f"swath scenes {year}", disable=not progress, leave=False)
    ]


def _features(scene, modalities: tuple[str, ...]) -> np.ndarray:
    blocks = []
    for name in modalities:
        values = scene[name].values  # (channel, scan, ray)
        if name == "pr":  # no echo (NaN) is "nothing detected": 0 dBZ, as the datasets do
            values = np.nan_to_num(values, nan=0.0)
        blocks.append(values.reshape(values.shape[0], -1).T)
    return np.concatenate(blocks, axis=1)


def _stack(scenes, modalities) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([_features(s, modalities) for s in scenes], axis=0)
    y = np.concatenate([s["precip"].values.ravel() for s in scenes])
    return x, y


def skill_scores(prediction: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """CC (Pearson), CSI, POD, FAR at :data:`RAIN_THRESHOLD` (``>=``) and RMSE (mm h-1)."""
    prediction = np.asarray(prediction, dtype=np.float64).ravel()
    truth = np.asarray(truth, dtype=np.float64).ravel()
    if prediction.shape != truth.shape or prediction.size < 2:
        raise ValueError(f"need two equal-length arrays, got {prediction.shape}, {truth.shape}")
    if not (np.all(np.isfinite(prediction)) and np.all(np.isfinite(truth))):
        raise ValueError("prediction and truth must be finite")
    p, t = prediction >= RAIN_THRESHOLD, truth >= RAIN_THRESHOLD
    hits, misses, false = np.sum(p & t), np.sum(~p & t), np.sum(p & ~t)
    return {
        "cc": float(np.corrcoef(prediction, truth)[0, 1]),
        "csi": float(hits / max(hits + misses + false, 1)),
        "pod": float(hits / max(hits + misses, 1)),
        "far": float(false / max(hits + false, 1)),
        "rmse": float(np.sqrt(np.mean((prediction - truth) ** 2))),
    }


def ir_threshold_csi(scenes, channel: str = "C12") -> tuple[float, float]:
    """The GPI-style per-pixel IR probe: the best CSI of "rain where T10.8 < T₀" over T₀.

    Arkin & Meisner's GOES Precipitation Index assigns rain to every pixel colder than 235 K;
    scanning the threshold from 200 to 290 K in 1 K steps and keeping the best makes the probe
    independent of the world's temperature scale. It has no parameters to fit, so it is a
    low-noise measure of how much a cold top says about rain in a pixel.

    Parameters
    ----------
    scenes : iterable of xarray.Dataset
        Scenes with ``ir`` (ir_channel, …) and ``precip``.
    channel : str
        IR channel (``"C12"`` = 10.8 µm).

    Returns
    -------
    (float, float)
        Best CSI and the threshold T₀ (K) that reaches it.
    """
    tb = np.concatenate([s["ir"].sel(ir_channel=channel).values.ravel() for s in scenes])
    wet = np.concatenate([s["precip"].values.ravel() for s in scenes]) >= RAIN_THRESHOLD
    best = (0.0, float("nan"))
    for threshold in np.arange(200.0, 291.0, 1.0):
        predicted = tb < threshold
        hits = np.sum(predicted & wet)
        csi = float(hits / max(np.sum(predicted | wet), 1))
        if csi > best[0]:
            best = (csi, float(threshold))
    return best


def calibrate_modalities(
    n_train: int = 24,
    n_test: int = 12,
    seed: int = 0,
    n_scans: int = 128,
    max_train_pixels: int = 80_000,
    max_iter: int = 100,
    train_scenes: list | None = None,
    test_scenes: list | None = None,
    n_threads: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Train a per-pixel gradient-boosting probe per modality set and score it on held-out data.

    The probe has no spatial context (one pixel's channels in, that pixel's label out), so its
    absolute scores sit below the paper's UNet teacher; the ordering across modalities is the
    property the world is calibrated for.

    Parameters
    ----------
    n_train, n_test : int
        Numbers of swath scenes (train from 2021, test from 2022, as in the paper's split).
    seed : int
        World and sampling seed.
    n_scans : int
        Scans per scene (49 rays each).
    max_train_pixels : int
        Random subsample of training pixels (speed).
    max_iter : int
        Boosting iterations.
    train_scenes, test_scenes : list of xarray.Dataset, optional
        Pre-simulated scenes (then ``n_train``/``n_test`` are ignored).
    n_threads : int
        OpenMP threads of the boosting (1 by default: deterministic, and far faster than
        oversubscribed threads on a shared machine).
    progress : bool
        Show progress bars while simulating scenes and fitting.

    Returns
    -------
    pandas.DataFrame
        Index ``modality`` (ir, pmw, pr, all); columns ``cc``, ``csi``, ``pod``, ``far``,
        ``rmse``, ``paper_cc``, ``paper_csi``, ``n_train_pixels``, ``n_test_pixels``.
        ``DataFrame.attrs`` holds ``seed``, ``n_train_scenes``, ``n_test_scenes``, ``n_scans``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    if train_scenes is None:
        train_scenes = simulate_calibration_scenes(n_train, seed, 2021, n_scans, progress=progress)
    if test_scenes is None:
        test_scenes = simulate_calibration_scenes(n_test, seed, 2022, n_scans, progress=progress)
    if not train_scenes or not test_scenes:
        raise ValueError("need at least one training and one test scene")
    rng = np.random.default_rng(seed)
    rows = []
    for name, modalities in tqdm(
        MODALITY_SETS.items(), desc="probes", disable=not progress, leave=False
    ):
        x_train, y_train = _stack(train_scenes, modalities)
        if y_train.size > max_train_pixels:
            keep = rng.choice(y_train.size, max_train_pixels, replace=False)
            x_train, y_train = x_train[keep], y_train[keep]
        x_test, y_test = _stack(test_scenes, modalities)
        with threadpool_limits(limits=n_threads):
            options = dict(
                max_iter=max_iter,
                learning_rate=0.1,
                max_leaf_nodes=31,
                early_stopping=False,
                random_state=seed,
            )
            regressor = HistGradientBoostingRegressor(**options).fit(x_train, y_train)
            classifier = HistGradientBoostingClassifier(**options).fit(
                x_train, y_train >= RAIN_THRESHOLD
            )
            # The paper's combination (prenet_reference §7.1): the regression where the classifier
            # says rain, exactly 0 elsewhere (negative regression values clamped to 0: our choice).
            rain = classifier.predict(x_test).astype(bool)
            prediction = np.where(rain, np.maximum(regressor.predict(x_test), 0.0), 0.0)
        scores = skill_scores(prediction, y_test)
        rows.append(
            {
                "modality": name,
                **scores,
                "paper_cc": PAPER_TABLE8[name][0],
                "paper_csi": PAPER_TABLE8[name][1],
                "n_train_pixels": int(y_train.size),
                "n_test_pixels": int(y_test.size),
            }
        )
    table = pd.DataFrame(rows).set_index("modality")
    table.attrs.update(
        seed=seed,
        n_train_scenes=len(train_scenes),
        n_test_scenes=len(test_scenes),
        n_scans=int(train_scenes[0].sizes["scan"]),
    )
    return table


def regime_statistics(scenes) -> pd.DataFrame:
    """Wet fraction, conditional mean and p99 of the hourly label per regime.

    Parameters
    ----------
    scenes : iterable of xarray.Dataset
        Scenes with a ``precip`` variable and a ``regime`` attribute.

    Returns
    -------
    pandas.DataFrame
        Index ``regime``; columns ``n_scenes``, ``wet_fraction`` (pixels ≥ 0.1 mm h-1),
        ``mean_wet`` (mm h-1 over wet pixels), ``p99_wet`` (mm h-1), ``max`` (mm h-1).
    """
    pooled: dict[str, list[np.ndarray]] = {}
    for scene in scenes:
        pooled.setdefault(scene.attrs["regime"], []).append(scene["precip"].values.ravel())
    rows = []
    for regime in REGIMES:
        if regime not in pooled:
            continue
        values = np.concatenate(pooled[regime])
        wet = values[values >= RAIN_THRESHOLD]
        rows.append(
            {
                "regime": regime,
                "n_scenes": len(pooled[regime]),
                "wet_fraction": float(wet.size / values.size),
                "mean_wet": float(wet.mean()) if wet.size else 0.0,
                "p99_wet": float(np.percentile(wet, 99)) if wet.size else 0.0,
                "max": float(values.max()),
            }
        )
    return pd.DataFrame(rows).set_index("regime")
