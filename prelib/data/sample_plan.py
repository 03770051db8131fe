"""The deterministic sample plan: sample index → (time, place, regime, scene seed).

Every sample of a synthetic benchmark is a pure function of ``(benchmark seed, kind, split,
index, attempt)``. Attempt 0 is tried first; if the scene is dry (see
:func:`is_kept`) the next attempt draws a new time and place, and so on. Because each draw comes
from its own ``numpy.random.SeedSequence``, sample ``i`` is the same whether the benchmark is
built serially, by 16 processes, streamed by a ``DataLoader`` worker or rebuilt next year, and
building a bigger benchmark only appends samples (sample ``i`` does not depend on the size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prelib.conventions import (
    DOMAIN_LAT,
    DOMAIN_LON,
    FULL_DISC_PATCH_SHAPE,
    FULL_DISC_RESOLUTION_KM,
    RAIN_THRESHOLD,
    SPLITS,
)
from prelib.data.benchmark_config import BENCHMARK_KINDS, check_kind, check_split
from prelib.data.splits import split_period
from prelib.sim.orbit import draw_overpass_latitude

SWATH_CENTRE_MARGIN_DEG: tuple[float, float] = (6.5, 12.0)
"""(lat, lon) margin kept between a swath patch's centre and the domain edge: half a patch
(640 km along track ≈ 5.8° of latitude; ≈ 11° of longitude for the near-zonal tracks at
55–60°N) so that the whole patch lies inside 0–65°N, 60–160°E."""

FULLDISC_GRID_DEG: float = FULL_DISC_RESOLUTION_KM / 100.0
"""Full-IPR patches are aligned to the 0.04° grid of the domain (4 km pixels)."""


@dataclass(frozen=True)
class SampleSpec:
    """Where and when one benchmark sample is simulated.

    Attributes
    ----------
    kind, split : str
        Benchmark kind and split.
    index : int
        Sample index within the split.
    attempt : int
        Rejection attempt (0 = first draw).
    time : numpy.datetime64
        UTC time, ns, a whole hour (the label hour's end).
    regime : str or None
        Forced regime, or ``None`` for the world's climatology.
    scene_seed : int
        Seed passed to the world's scene simulator.
    lat_bounds, lon_bounds : (float, float) or None
        Full-IPR patch box in degrees (``None`` for swaths).
    centre : (float, float) or None
        Swath patch centre (lat, lon) in degrees (``None`` for Full-IPR); the pass direction
        follows from the scene seed in the world's orbit model.
    """

    kind: str
    split: str
    index: int
    attempt: int
    time: np.datetime64
    regime: str | None
    scene_seed: int
    lat_bounds: tuple[float, float] | None = None
    lon_bounds: tuple[float, float] | None = None
    centre: tuple[float, float] | None = None


def _stream(seed: int, kind: str, split: str, index: int, attempt: int) -> np.random.Generator:
    key = [int(seed), BENCHMARK_KINDS.index(kind), SPLITS.index(split), int(index), int(attempt)]
    return np.random.default_rng(np.random.SeedSequence(key))


def plan_sample(
    kind: str,
    split: str,
    index: int,
    attempt: int = 0,
    seed: int = 0,
    regimes: tuple[str, ...] | None = None,
) -> SampleSpec:
    """The :class:`SampleSpec` of one draw of the plan.

    Parameters
    ----------
    kind : {"swath", "fulldisc"}
    split : {"train", "val", "test"}
    index : int
        Sample index (>= 0).
    attempt : int
        Rejection attempt (>= 0).
    seed : int
        Benchmark seed (>= 0).
    regimes : tuple of str, optional
        Draw the regime uniformly from these; ``None`` leaves it to the world's climatology.
    """
    check_kind(kind)
    check_split(split)
    for name, value in (("index", index), ("attempt", attempt), ("seed", seed)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    rng = _stream(seed, kind, split, index, attempt)
    days = split_period(kind, split).days()
    day = days[int(rng.integers(len(days)))]
    time = (day.astype("datetime64[h]") + np.timedelta64(int(rng.integers(24)), "h")).astype(
        "datetime64[ns]"
    )
    regime = None if regimes is None else str(regimes[int(rng.integers(len(regimes)))])
    scene_seed = int(rng.integers(2**31 - 1))
    if kind == "fulldisc":
        extent_y = FULL_DISC_PATCH_SHAPE[0] * FULLDISC_GRID_DEG
        extent_x = FULL_DISC_PATCH_SHAPE[1] * FULLDISC_GRID_DEG
        n_lat = int(np.floor((DOMAIN_LAT[1] - DOMAIN_LAT[0] - extent_y) / FULLDISC_GRID_DEG))
        n_lon = int(np.floor((DOMAIN_LON[1] - DOMAIN_LON[0] - extent_x) / FULLDISC_GRID_DEG))
        lat0 = round(DOMAIN_LAT[0] + int(rng.integers(n_lat + 1)) * FULLDISC_GRID_DEG, 6)
        lon0 = round(DOMAIN_LON[0] + int(rng.integers(n_lon + 1)) * FULLDISC_GRID_DEG, 6)
        return SampleSpec(
            kind,
            split,
            int(index),
            int(attempt),
            time,
            regime,
            scene_seed,
            lat_bounds=(lat0, round(lat0 + extent_y, 6)),
            lon_bounds=(lon0, round(lon0 + extent_x, 6)),
        )
    lat_margin, lon_margin = SWATH_CENTRE_MARGIN_DEG
    # GPM's ground track dwells near its 65° inclination: swath samples follow that latitude
    # sampling, while Full-IPR boxes sample the disc uniformly (a real Swath-MPR/Full-IPR shift).
    lat = draw_overpass_latitude(rng, (DOMAIN_LAT[0] + lat_margin, DOMAIN_LAT[1] - lat_margin))
    lon = float(rng.uniform(DOMAIN_LON[0] + lon_margin, DOMAIN_LON[1] - lon_margin))
    return SampleSpec(
        kind,
        split,
        int(index),
        int(attempt),
        time,
        regime,
        scene_seed,
        centre=(round(lat, 4), round(lon, 4)),
    )


def wet_and_valid_fraction(precip: np.ndarray) -> tuple[float, float]:
    """(wet fraction of the valid pixels, valid fraction of all pixels) of a label patch.

    A pixel is valid when its label is finite and wet when ``precip >= RAIN_THRESHOLD``.
    """
    precip = np.asarray(precip)
    valid = np.isfinite(precip)
    n_valid = int(valid.sum())
    if n_valid == 0:
        return 0.0, 0.0
    wet = int((precip[valid] >= RAIN_THRESHOLD).sum())
    return wet / n_valid, n_valid / precip.size


def is_kept(precip: np.ndarray, min_wet_fraction: float, min_valid_fraction: float) -> bool:
    """Whether a label patch passes the dry/invalid filter of :class:`BenchmarkConfig`."""
    wet, valid = wet_and_valid_fraction(precip)
    return valid >= min_valid_fraction and valid > 0 and wet >= min_wet_fraction
