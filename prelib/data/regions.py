"""Any lat/lon box at any time as one scene, and the named case studies of the notebooks.

:func:`simulate_region` is the entry point for tiled inference and maps: one scene of the
synthetic world on the regular 0.04° (4 km) grid, or any other resolution, with the same
variables, units and CF attributes as the benchmarks (dims ``y``, ``x`` without ``sample``).
:func:`write_scene` saves it atomically as compressed NetCDF-4.

:data:`CASE_STUDIES` names three boxes whose weather looks like their name, for the notebooks:

* ``frontal`` — a Meiyu front across the Yangtze valley in late June (the season and place of
  the East-Asian early-summer front; Ding & Chan 2005);
* ``convective`` — afternoon monsoon convection over South China and the northern South China
  Sea in August (≈ 15 h local time, the diurnal peak of convection over land);
* ``orographic`` — south-west monsoon flow against the southern Himalaya (Nepal, Sikkim,
  Bhutan) in July, the classic upslope-rain belt (Bookhagen & Burbank 2006).

The regime is forced in each case; the seed was picked by eye among the first few so that the
case shows its defining structure (a long rain band along the front; scattered intense cells;
heavy rain on the windward foothills and slopes) — ``tests/data/test_regions.py`` checks
measurable parts of that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from prelib.atomic import atomic_path
from prelib.conventions import CONVENTIONS_ATTR
from prelib.data.cf import cf_complete, netcdf_string_encoding


@dataclass(frozen=True)
class CaseStudy:
    """A named scene: box, time, seed and regime.

    Attributes
    ----------
    name : str
        One of :data:`prelib.conventions.CASE_STUDIES`.
    lat_bounds, lon_bounds : (float, float)
        Box in degrees north / east.
    time : str
        End of the label hour, ISO UTC.
    seed : int
        World seed.
    regime : str
        Forced precipitation regime.
    description : str
        One line for figure titles.
    """

    name: str
    lat_bounds: tuple[float, float]
    lon_bounds: tuple[float, float]
    time: str
    seed: int
    regime: str
    description: str


CASE_STUDIES: dict[str, CaseStudy] = {
    "frontal": CaseStudy(
        "frontal",
        (26.0, 36.0),
        (108.0, 122.0),
        "2021-06-28T06:00",
        0,
        "frontal",
        "Meiyu front over the Yangtze valley, 28 June 2021 06 UTC",
    ),
    "convective": CaseStudy(
        "convective",
        (17.0, 26.0),
        (106.0, 118.0),
        "2021-08-05T07:00",
        0,
        "convective",
        "afternoon monsoon convection over South China, 5 August 2021 07 UTC",
    ),
    "orographic": CaseStudy(
        "orographic",
        (25.0, 31.0),
        (82.0, 93.0),
        "2021-07-20T06:00",
        8,
        "orographic",
        "south-west monsoon rain on the southern Himalaya, 20 July 2021 06 UTC",
    ),
}
"""The named case studies (keys are :data:`prelib.conventions.CASE_STUDIES`)."""


def simulate_region(
    lat_bounds: tuple[float, float],
    lon_bounds: tuple[float, float],
    time: object,
    seed: int = 0,
    regime: str | None = None,
    resolution_km: float = 4.0,
    sensors: tuple[str, ...] = ("ir",),
) -> xr.Dataset:
    """One scene of the synthetic world over a lat/lon box.

    Parameters
    ----------
    lat_bounds, lon_bounds : (float, float)
        Box edges in degrees inside 0–65°N, 60–160°E (min < max).
    time : date-time-like
        End of the label hour, UTC.
    seed : int
        World seed (>= 0).
    regime : str, optional
        Force a regime (``frontal``, ``convective``, ``orographic``, ``stratiform``); ``None``
        follows the world's climatology.
    resolution_km : float
        Grid spacing ``resolution_km / 100`` degrees (4 km → 0.04°).
    sensors : tuple of str
        Observations to simulate: any of ``ir``, ``pmw``, ``pr``.

    Returns
    -------
    xarray.Dataset
        dims (y, x): ``ir`` (ir_channel, y, x) K (and ``pmw``/``pr`` if asked), ``precip``
        (hourly label, mm h-1), ``precip_instant`` (mm h-1), ``elevation`` (m), ``land``;
        coords ``lat``, ``lon`` (y, x), scalar ``time``.

    Raises
    ------
    ValueError
        Boxes outside the domain or of non-positive size, unknown regimes or sensors.
    """
    from prelib.sim.scene import simulate_grid_scene

    scene = simulate_grid_scene(
        tuple(lat_bounds),
        tuple(lon_bounds),
        time,
        seed=seed,
        regime=regime,
        resolution_km=resolution_km,
        sensors=tuple(sensors),
    )
    scene.attrs.update(
        title="prelib synthetic regional scene",
        Conventions=CONVENTIONS_ATTR,
        lat_bounds=[float(v) for v in lat_bounds],
        lon_bounds=[float(v) for v in lon_bounds],
    )
    return scene


def simulate_region_hours(
    lat_bounds: tuple[float, float],
    lon_bounds: tuple[float, float],
    time: object,
    hours: int,
    seed: int = 0,
    regime: str | None = None,
    resolution_km: float = 4.0,
    sensors: tuple[str, ...] = ("ir",),
) -> list[xr.Dataset]:
    """Consecutive hours of one evolving storm over a lat/lon box (the explorer's time axis).

    Unlike calling :func:`simulate_region` for each hour (independent weather every hour), the
    storm of the first hour is carried on by the wind, grows or decays and renews its cells
    (:func:`prelib.sim.scene.simulate_grid_hours`). Arguments and variables as in
    :func:`simulate_region`; ``time`` is the end of the first label hour and ``hours`` (≥ 1)
    the number of hours. The first hour is not the same draw as :func:`simulate_region`'s
    (a wider margin lets the storm travel).
    """
    from prelib.sim.scene import simulate_grid_hours

    scenes = simulate_grid_hours(
        tuple(lat_bounds),
        tuple(lon_bounds),
        time,
        hours,
        seed=seed,
        regime=regime,
        resolution_km=resolution_km,
        sensors=tuple(sensors),
    )
    for scene in scenes:
        scene.attrs.update(
            title="prelib synthetic regional scene",
            Conventions=CONVENTIONS_ATTR,
            lat_bounds=[float(v) for v in lat_bounds],
            lon_bounds=[float(v) for v in lon_bounds],
        )
    return scenes


def check_case(name: str) -> CaseStudy:
    """The :class:`CaseStudy` called ``name``; unknown names raise ``ValueError``."""
    if name not in CASE_STUDIES:
        raise ValueError(f"unknown case study {name!r}; choose one of {list(CASE_STUDIES)}")
    return CASE_STUDIES[name]


def simulate_case(
    name: str, resolution_km: float = 4.0, sensors: tuple[str, ...] = ("ir",)
) -> xr.Dataset:
    """Simulate a named case study (see :data:`CASE_STUDIES`) as a regional scene."""
    case = check_case(name)
    scene = simulate_region(
        case.lat_bounds, case.lon_bounds, case.time, case.seed, case.regime, resolution_km, sensors
    )
    scene.attrs.update(case=case.name, description=case.description)
    return scene


def case_path(name: str, root: str | os.PathLike | None = None) -> Path:
    """Default file of a case study: ``<root>/synthetic/cases/<name>.nc`` (``root`` defaults to
    ``PRELIB_DATA_DIR``); the intake catalog ``catalogs/synthetic.yaml`` reads it there."""
    from prelib.paths import data_dir

    check_case(name)
    return (Path(root) if root is not None else data_dir()) / "synthetic" / "cases" / f"{name}.nc"


def write_scene(scene: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a scene as compressed NetCDF-4 (h5netcdf), atomically.

    Float fields are zlib-compressed (level 4) with NaN as ``_FillValue``; ``time`` is written
    as seconds since 1970-01-01; the CF metadata is completed by
    :func:`prelib.data.cf.cf_complete` (grid mapping, axes, ``cell_methods``, ``time_bnds``).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    if path.suffix not in (".nc", ".nc4"):
        raise ValueError(f"scene files are NetCDF: expected a '.nc' path, got {str(path)!r}")
    scene = cf_complete(scene)
    encoding: dict[str, dict] = netcdf_string_encoding(scene)
    for name, var in scene.variables.items():
        if var.dtype.kind == "f" and var.ndim >= 2:
            encoding[name] = {"zlib": True, "complevel": 4, "_FillValue": np.float32(np.nan)}
        elif var.dtype.kind == "M":
            encoding[name] = {"units": "seconds since 1970-01-01T00:00:00", "dtype": "int64"}
    with atomic_path(path) as tmp:
        scene.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return path
