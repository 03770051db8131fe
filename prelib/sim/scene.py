"""The synthetic PRE world's scenes: a lat/lon grid scene (Full-IPR, downscaling truth) and a
GPM swath scene (Swath-MPR), with IR, PMW and PR observations and the CLDAS-like label.

One pipeline serves both: geography (land mask, terrain) → climate background (temperature,
moisture, 0 °C level, tropopause, wind) → regime → rain and its evolution over the label hour
(:mod:`prelib.sim.weather`) → clouds (:mod:`prelib.sim.clouds`) → sensors (:mod:`prelib.sim.ir`,
:mod:`prelib.sim.pmw`, :mod:`prelib.sim.radar`) → label (:mod:`prelib.sim.label`). Everything is
simulated on a grid padded by :data:`SIMULATION_MARGIN_KM` and cropped, and every random
number comes from a stream seeded by ``(seed, time, location, purpose)``
(:func:`prelib.sim.seeding.scene_rng`), so a scene is reproducible bit for bit and nothing
needs to be stored.

Timing: ``time`` is the end of the label hour (the CLDAS convention). The microwave sensors
observe at ``time + observation_offset_s`` with the offset drawn in ±10 min (the paper's
matching tolerance); in swath scenes the geostationary image is another ±7.5 min away
(15-minute full-disc cadence) and is resampled onto the 5 km swath; in grid (disc) scenes the IR
is the image of the label hour's end, seen when the north-to-south scan reaches the scene's
latitude (:func:`prelib.sim.ir.line_scan_offset_s`), on the disc's own pixels. No sensor sees
rain after its own time: soil wetness comes from the rain up to the overpass. The dataset
attributes record both offsets (``ir_offset_s`` is relative to the overpass), the regime, the
wind and the DEM used.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from prelib.conventions import (
    AGRI_IR_CHANNELS,
    CONVENTIONS_ATTR,
    DIM_BIN,
    DIM_IR_CHANNEL,
    DIM_PMW_CHANNEL,
    DIM_RAY,
    DIM_SCAN,
    DIM_X,
    DIM_Y,
    DOMAIN_LAT,
    DOMAIN_LON,
    DPR_N_BINS,
    DPR_N_RAYS,
    GMI_CHANNELS,
    REGIMES,
    SWATH_RESOLUTION_KM,
    VAR_ELEVATION,
    VAR_IR,
    VAR_LAND,
    VAR_LAT,
    VAR_LON,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
    VAR_TIME,
    cf_attrs,
)
from prelib.sim import climate
from prelib.sim.clouds import simulate_clouds
from prelib.sim.geography import SceneGrid, land_mask, latlon_grid
from prelib.sim.ir import agri_brightness_temperature, line_scan_offset_s
from prelib.sim.label import cldas_label
from prelib.sim.orbit import draw_overpass_latitude, gpm_ground_track, swath_coordinates
from prelib.sim.pmw import gmi_brightness_temperature, soil_moisture
from prelib.sim.radar import bin_heights_km, dpr_reflectivity_profile
from prelib.sim.regimes import check_regime
from prelib.sim.seeding import as_datetime64, scene_rng
from prelib.sim.terrain import default_dem, surface_elevation
from prelib.sim.weather import simulate_precipitation

WORLD_VERSION = 2
"""Version of the synthetic world's physics. A seeded scene is the same bit for bit only within
one version; benchmark stores record it (``world_version``) and refuse to open under another.

* 1 — the original world (stores without the attribute);
* 2 — no post-overpass rain in soil wetness; warm rain, anvil/cirrus spread, mid decks,
  decaying convection; stochastic Z–R; land emissivity texture; ice-scattering spread; AGRI
  pixel growth, swath resampling, disc line-scan time and yearly calibration offsets; GPM
  latitude sampling; float32 fields and FFT-friendly noise sizes.
"""

SENSORS: tuple[str, ...] = (VAR_IR, VAR_PMW, VAR_PR)
"""Sensors a scene can carry."""

SIMULATION_MARGIN_KM = 90.0
"""Margin simulated around a scene: 20 m s-1 advection over 70 min plus the 10 GHz footprint."""

VAR_PRECIP_INSTANT = "precip_instant"
"""Instantaneous surface rain at the observation time (mm h-1)."""

VAR_PRECIP_HOURLY = "precip_hourly"
"""Mean rain over the label hour at the scene's own resolution, before the CLDAS 0.0625°
aggregation that makes ``precip`` (mm h-1): the fine truth for downscaling."""

OBSERVATION_OFFSET_S = 600.0
"""Maximum |overpass − label hour end| (s): the paper's ≤ 10 min matching tolerance."""

IR_IMAGE_OFFSET_S = 450.0
"""Maximum |IR image − overpass| (s) in swath scenes: half the 15-min full-disc cadence."""

STORM_STREAMS: tuple[str, ...] = ("regime", "wind", "timing", "weather", "clouds")
"""Random streams that a multi-hour storm (:func:`simulate_grid_hours`) draws once, at its
first hour, and evolves; the other streams (sensor noise) are drawn for each hour."""

STEERING_SPEED_MAX_MS = 20.0
"""Fastest steering wind of the world (m s-1; :func:`prelib.sim.climate.steering_wind`): how far
a storm can travel, for the margin of multi-hour scenes."""


def _check_sensors(sensors: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(sensors, str):
        raise ValueError(
            f"sensors must be a tuple of names, e.g. ('ir',), got the string {sensors!r}"
        )
    sensors = tuple(sensors)
    unknown = [name for name in sensors if name not in SENSORS]
    if unknown:
        raise ValueError(f"unknown sensor(s) {unknown}; choose from {list(SENSORS)}")
    return sensors


def _simulate(
    grid: SceneGrid,
    time: np.datetime64,
    seed: int,
    regime: str | None,
    sensors: tuple[str, ...],
    location: tuple[float, ...],
    ray_offset: np.ndarray,
    ir_offset_range_s: float,
    storm_time: np.datetime64 | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """Run the world on a padded grid; returns cropped arrays and attributes.

    ``storm_time`` (an earlier whole hour, for the later hours of a multi-hour storm) seeds the
    weather, the clouds, the wind, the regime and the timing from that hour instead of
    ``time``, and evolves them to ``time`` (:data:`STORM_STREAMS`); the sensors' noise and the
    climate (diurnal cycle) belong to ``time`` itself.
    """
    storm_time = time if storm_time is None else storm_time
    lead_s = float((time - storm_time) / np.timedelta64(1, "s"))

    def rng(purpose: str) -> np.random.Generator:
        when = storm_time if purpose in STORM_STREAMS else time
        return scene_rng(seed, when, *location, purpose=purpose)

    land = land_mask(grid.lat, grid.lon)
    # The world runs in single precision (the outputs are float32; float64 only doubled the
    # memory traffic of every element-wise step).
    elevation = surface_elevation(grid.lat, grid.lon, land).astype(np.float32)
    # The air column follows the seasonal cycle; the skin adds the diurnal cycle over land.
    sea_level_t = climate.sea_level_temperature(
        grid.lat, grid.lon, land, time, diurnal=False
    ).astype(np.float32)
    skin_t = climate.sea_level_temperature(grid.lat, grid.lon, land, time).astype(np.float32)
    surface_t = climate.surface_temperature(skin_t, elevation).astype(np.float32)
    freezing_level = climate.freezing_level_km(sea_level_t).astype(np.float32)
    tropopause_km = climate.tropopause(grid.lat)[0].astype(np.float32)
    # Water vapour decays with a ~2 km scale height, so high plateaus have dry columns.
    water_vapour = climate.column_water_vapour(sea_level_t) * np.exp(-elevation / 2000.0)

    inner = grid.interior
    lat_c = float(np.mean(grid.lat[inner]))
    timing = rng("timing")
    if regime is None:
        slope = np.hypot(*np.gradient(elevation, grid.dy_km * 1000.0, grid.dx_km * 1000.0))
        rugged = float(np.mean(((elevation > 1500.0) | (slope > 0.03))[inner]))
        regime = climate.choose_regime(rng("regime"), lat_c, storm_time, rugged)
    check_regime(regime)
    wind_ne = climate.steering_wind(rng("wind"), lat_c, storm_time, regime)
    observation_offset = float(timing.uniform(-OBSERVATION_OFFSET_S, OBSERVATION_OFFSET_S))
    if ir_offset_range_s > 0:  # swath: the full-disc image nearest the overpass
        ir_offset = float(timing.uniform(-ir_offset_range_s, ir_offset_range_s))
    else:  # disc patch: the image of the label hour's end, at the time its lines were scanned
        ir_offset = line_scan_offset_s(lat_c) - observation_offset
    mean_t = float(np.mean(sea_level_t[inner]))
    summer = 0.5 * (1.0 + climate.season_phase(time))
    tropical = float(np.clip((25.0 - lat_c) / 15.0, 0.0, 1.0))
    wet_scale = 0.75 + 0.25 * summer + 0.15 * tropical
    rain = simulate_precipitation(
        rng("weather"),
        regime,
        grid,
        elevation,
        wind_ne,
        observation_offset,
        mean_t,
        intensity_scale=climate.intensity_scale(mean_t),
        wet_scale=wet_scale,
        ir_offset_s=ir_offset,
        lead_s=lead_s,
    )
    # how far the air has moved since the storm's first hour (pixels along y, x)
    moved_px = (
        rain.wind_yx[0] * lead_s / (1000.0 * grid.dy_km),
        rain.wind_yx[1] * lead_s / (1000.0 * grid.dx_km),
    )

    def clouds_for(fields):
        return simulate_clouds(
            rng("clouds"),
            regime,
            grid,
            fields,
            elevation,
            land,
            freezing_level,
            tropopause_km,
            advect_px=moved_px,
        )

    clouds = clouds_for(rain)
    out: dict[str, np.ndarray] = {}
    if VAR_IR in sensors:
        ir_clouds = clouds
        if rain.ir_view is not None:
            main, cells, oro = rain.ir_view
            ir_rain = dataclasses.replace(
                rain, instant=main + cells + oro, main=main, cells=cells, orographic=oro
            )
            ir_clouds = clouds_for(ir_rain)
        ir_time = time + np.timedelta64(round(observation_offset + ir_offset), "s")
        out[VAR_IR] = agri_brightness_temperature(
            rng("ir"),
            grid,
            ir_clouds,
            sea_level_t,
            surface_t,
            water_vapour,
            freezing_level,
            land,
            elevation,
            ir_time,
            resampled_km=SWATH_RESOLUTION_KM if ir_offset_range_s > 0 else None,
        )[(slice(None), *inner)]
    if VAR_PMW in sensors:
        pmw_rng = rng("pmw")
        wetness = soil_moisture(pmw_rng, grid, rain.antecedent)
        out[VAR_PMW] = gmi_brightness_temperature(
            pmw_rng, grid, clouds, sea_level_t, surface_t, water_vapour, land, wetness
        )[(slice(None), *inner)]
    if VAR_PR in sensors:
        # The radar sees the columns near the swath only: crop first (the footprint smoothing
        # needs only a few pixels of margin), which keeps the 176-bin cube small.
        ring = tuple(slice(s.start - 2, s.stop + 2) for s in inner)
        small = dataclasses.replace(grid, lat=grid.lat[ring], lon=grid.lon[ring], pad=2)
        echo_top = np.where(rain.instant >= 0.05, clouds.main_top_km - 0.5, 0.0)
        out[VAR_PR] = dpr_reflectivity_profile(
            rng("pr"),
            small,
            rain.instant[ring],
            rain.convective[ring],
            echo_top[ring],
            freezing_level[ring],
            elevation[ring],
            ray_offset[ring],
        )[(slice(None), *small.interior)]
    label = cldas_label(rain.hourly, grid.lat, grid.lon)
    out[VAR_PRECIP] = label[inner]
    out[VAR_PRECIP_INSTANT] = rain.instant[inner]
    out[VAR_PRECIP_HOURLY] = rain.hourly[inner]
    out[VAR_ELEVATION] = elevation[inner]
    out[VAR_LAND] = land[inner]
    attrs = {
        "regime": regime,
        "seed": int(seed),
        "source": "synthetic",
        "Conventions": CONVENTIONS_ATTR,
        "wind_u": round(float(wind_ne[1]), 3),
        "wind_v": round(float(wind_ne[0]), 3),
        "observation_offset_s": round(observation_offset, 3),
        "dem": default_dem().source,
    }
    if lead_s > 0.0:
        attrs["storm_start"] = str(np.datetime_as_string(storm_time, unit="m"))
    if VAR_IR in sensors:
        attrs["ir_offset_s"] = round(ir_offset, 3)
    return out, attrs


def _dataset(
    arrays: dict[str, np.ndarray],
    attrs: dict[str, object],
    dims: tuple[str, str],
    lat: np.ndarray,
    lon: np.ndarray,
    time: np.datetime64,
) -> xr.Dataset:
    data_vars = {}
    for name, value in arrays.items():
        if name == VAR_IR:
            var_dims, var_attrs = (DIM_IR_CHANNEL, *dims), cf_attrs(VAR_IR)
        elif name == VAR_PMW:
            var_dims, var_attrs = (DIM_PMW_CHANNEL, *dims), cf_attrs(VAR_PMW)
        elif name == VAR_PR:
            var_dims, var_attrs = (DIM_BIN, *dims), cf_attrs(VAR_PR)
        elif name == VAR_PRECIP_INSTANT:
            var_dims, var_attrs = dims, cf_attrs(VAR_PRECIP)
            var_attrs["long_name"] = "instantaneous surface precipitation rate at observation time"
        elif name == VAR_PRECIP_HOURLY:
            var_dims, var_attrs = dims, cf_attrs(VAR_PRECIP)
            var_attrs["long_name"] = "hourly surface precipitation rate at the grid resolution"
        else:
            var_dims, var_attrs = dims, cf_attrs(name)
        dtype = np.int8 if name == VAR_LAND else np.float32
        data_vars[name] = xr.Variable(var_dims, np.ascontiguousarray(value, dtype=dtype), var_attrs)
    coords = {
        VAR_LAT: xr.Variable(dims, lat.astype(np.float32), cf_attrs(VAR_LAT)),
        VAR_LON: xr.Variable(dims, lon.astype(np.float32), cf_attrs(VAR_LON)),
        VAR_TIME: xr.Variable(
            (), time, {"long_name": "end of the label hour", "standard_name": "time"}
        ),
    }
    if VAR_IR in arrays:
        coords[DIM_IR_CHANNEL] = list(AGRI_IR_CHANNELS)
    if VAR_PMW in arrays:
        coords[DIM_PMW_CHANNEL] = list(GMI_CHANNELS)
    if VAR_PR in arrays:
        coords[DIM_BIN] = np.arange(DPR_N_BINS, dtype=np.int16)
        coords["bin_height"] = xr.Variable(
            (DIM_BIN,),
            (1000.0 * bin_heights_km()).astype(np.float32),
            {"long_name": "range-bin centre height above the ellipsoid", "units": "m"},
        )
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def simulate_grid_scene(
    lat_bounds: tuple[float, float],
    lon_bounds: tuple[float, float],
    time,
    seed: int = 0,
    regime: str | None = None,
    resolution_km: float = 4.0,
    sensors: tuple[str, ...] = ("ir",),
) -> xr.Dataset:
    """Simulate a scene on a regular lat/lon grid (Full-IPR inputs, downscaling truth).

    Parameters
    ----------
    lat_bounds, lon_bounds : (float, float)
        Box edges in degrees, inside 0–65°N, 60–160°E.
    time : date-time-like
        End of the label hour (UTC).
    seed : int
        World seed; with ``time`` and the box it determines the scene bit for bit.
    regime : str, optional
        One of :data:`prelib.conventions.REGIMES`; ``None`` draws one from the climatology of
        the box's latitude, season and terrain.
    resolution_km : float
        Nominal resolution; the grid spacing is ``resolution_km / 100`` degrees
        (0.04° at 4 km, 0.01° at 1 km).
    sensors : tuple of str
        Any of ``"ir"``, ``"pmw"``, ``"pr"`` (PR columns use nadir clutter); ``()`` for truth
        only.

    Returns
    -------
    xarray.Dataset
        dims ``(y, x)`` with ``y`` northward and ``x`` eastward: ``precip`` (hourly label on
        the CLDAS 0.0625° cells, mm h-1), ``precip_hourly`` (the same hour at the grid's own
        resolution, the fine truth for downscaling), ``precip_instant`` (mm h-1),
        ``elevation`` (m), ``land`` (int8 1/0), and per
        sensor ``ir`` (ir_channel=8, y, x) K, ``pmw`` (pmw_channel=13, y, x) K, ``pr``
        (bin=176, y, x) dBZ (NaN = no echo); coords ``lat``, ``lon`` (y, x) float32 and the
        scalar ``time``; attrs ``regime``, ``seed``, ``source``, ``Conventions``, ``wind_u``,
        ``wind_v`` (m s-1), ``observation_offset_s``, ``resolution_km``, ``dem`` and, with IR,
        ``ir_offset_s`` (IR scan time minus ``observation_offset_s``).

    Raises
    ------
    ValueError
        For boxes outside the domain or of non-positive size, unknown regimes or sensors, a
        bad resolution, seed or time.
    """
    sensors = _check_sensors(sensors)
    if regime is not None:
        check_regime(regime)
    time64 = as_datetime64(time)
    grid = latlon_grid(lat_bounds, lon_bounds, resolution_km, pad_km=SIMULATION_MARGIN_KM)
    location = (*lat_bounds, *lon_bounds, resolution_km)
    arrays, attrs = _simulate(
        grid, time64, seed, regime, sensors, location, np.zeros(grid.shape, np.float32), 0.0
    )
    attrs["resolution_km"] = float(resolution_km)
    inner = grid.interior
    return _dataset(arrays, attrs, (DIM_Y, DIM_X), grid.lat[inner], grid.lon[inner], time64)


def simulate_grid_hours(
    lat_bounds: tuple[float, float],
    lon_bounds: tuple[float, float],
    time,
    hours: int,
    seed: int = 0,
    regime: str | None = None,
    resolution_km: float = 4.0,
    sensors: tuple[str, ...] = ("ir",),
) -> list[xr.Dataset]:
    """Consecutive hours of one evolving storm over a lat/lon box.

    :func:`simulate_grid_scene` draws each hour's weather afresh, so two consecutive hours of
    a box are unrelated weather. Here the storm of the first hour goes on: its rain, clouds,
    wind, regime and observation timing are drawn once, from ``time``, and each later hour
    evolves them (:mod:`prelib.sim.weather`): the rain and the cloud textures are advected by
    the steering wind, the envelope grows or decays along its trend, the small-scale texture
    and the convective cells are renewed with the regime's lifetimes, and the terrain-locked
    upslope rain stays on the slopes. The sensor noise and the diurnal cycle of the surface
    belong to each hour.

    The scenes are simulated with a margin wide enough for the storm to travel
    (:data:`STEERING_SPEED_MAX_MS` for ``hours − 1`` hours), so the first hour is a valid
    scene of the world for this time and box but not the same draw as
    :func:`simulate_grid_scene` (whose margin is :data:`SIMULATION_MARGIN_KM`); benchmark
    samples are never made this way.

    Parameters
    ----------
    lat_bounds, lon_bounds, seed, regime, resolution_km, sensors
        As in :func:`simulate_grid_scene`.
    time : date-time-like
        End of the first label hour (UTC).
    hours : int
        Number of consecutive hours (≥ 1), one hour apart.

    Returns
    -------
    list of xarray.Dataset
        ``hours`` scenes with the variables of :func:`simulate_grid_scene`, times ``time``,
        ``time + 1 h`` …; the later ones carry the attribute ``storm_start`` (first hour,
        ISO UTC).

    Raises
    ------
    ValueError
        As :func:`simulate_grid_scene`, or ``hours`` not a positive integer.
    """
    sensors = _check_sensors(sensors)
    if regime is not None:
        check_regime(regime)
    if not isinstance(hours, int | np.integer) or isinstance(hours, bool) or hours < 1:
        raise ValueError(f"hours must be a positive integer, got {hours!r}")
    start = as_datetime64(time)
    travel_km = STEERING_SPEED_MAX_MS * 3.6 * (int(hours) - 1)
    grid = latlon_grid(
        lat_bounds, lon_bounds, resolution_km, pad_km=SIMULATION_MARGIN_KM + travel_km
    )
    location = (*lat_bounds, *lon_bounds, resolution_km)
    inner = grid.interior
    scenes = []
    for hour in range(int(hours)):
        when = start + np.timedelta64(hour, "h")
        arrays, attrs = _simulate(
            grid,
            when,
            seed,
            regime,
            sensors,
            location,
            np.zeros(grid.shape, np.float32),
            0.0,
            storm_time=start,
        )
        attrs["resolution_km"] = float(resolution_km)
        scenes.append(
            _dataset(arrays, attrs, (DIM_Y, DIM_X), grid.lat[inner], grid.lon[inner], when)
        )
    return scenes


def simulate_swath_scene(
    time,
    seed: int = 0,
    n_scans: int = 256,
    regime: str | None = None,
    centre: tuple[float, float] | None = None,
    sensors: tuple[str, ...] = ("ir", "pmw", "pr"),
) -> xr.Dataset:
    """Simulate a GPM overpass segment on the 5 km DPR swath grid (Swath-MPR).

    Parameters
    ----------
    time : date-time-like
        End of the label hour (UTC); the overpass is within ±10 min of it.
    seed : int
        World seed.
    n_scans : int
        Along-track length (scans, 5 km apart); 256 for a Swath-MPR patch.
    regime : str, optional
        As in :func:`simulate_grid_scene`.
    centre : (lat, lon), optional
        Point the ground track crosses at its middle scan (inside the domain). ``None``
        draws it, and the pass direction, from ``(seed, time)``, with latitudes weighted as
        GPM's track visits them (:func:`prelib.sim.orbit.draw_overpass_latitude`).
    sensors : tuple of str
        Any of ``"ir"``, ``"pmw"``, ``"pr"``.

    Returns
    -------
    xarray.Dataset
        dims ``(scan, ray=49)``: ``ir`` (ir_channel, scan, ray) K, ``pmw`` (pmw_channel, scan,
        ray) K, ``pr`` (bin, scan, ray) dBZ with NaN below sensitivity / in clutter,
        ``precip``, ``precip_hourly``, ``precip_instant`` (mm h-1), ``elevation`` (m),
        ``land``; coords ``lat``,
        ``lon`` (scan, ray), ``time``; attrs as the grid scene plus ``ascending``,
        ``centre_lat``, ``centre_lon``, ``heading_deg`` and ``ir_offset_s``.
    """
    sensors = _check_sensors(sensors)
    if regime is not None:
        check_regime(regime)
    time64 = as_datetime64(time)
    if not isinstance(n_scans, int | np.integer) or isinstance(n_scans, bool) or n_scans < 8:
        raise ValueError(f"n_scans must be an integer >= 8, got {n_scans!r}")
    orbit_rng = scene_rng(seed, time64, 0.0, purpose="orbit")
    ascending = bool(orbit_rng.uniform() < 0.5)
    if centre is None:
        # Latitudes as often as GPM's track visits them (more at 50-60°N than in the tropics).
        centre = (
            draw_overpass_latitude(orbit_rng, (6.0, 58.0)),
            float(orbit_rng.uniform(70.0, 150.0)),
        )
    else:
        try:
            centre = (float(centre[0]), float(centre[1]))
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"centre must be (lat, lon), got {centre!r}") from None
        if not (
            DOMAIN_LAT[0] <= centre[0] <= DOMAIN_LAT[1]
            and DOMAIN_LON[0] <= centre[1] <= DOMAIN_LON[1]
        ):
            raise ValueError(f"centre {centre} lies outside the study domain 0–65°N, 60–160°E")
        centre = (min(centre[0], 64.0), centre[1])
    pad = int(np.ceil(SIMULATION_MARGIN_KM / SWATH_RESOLUTION_KM))
    track = gpm_ground_track(centre[0], centre[1], int(n_scans) + 2 * pad, ascending=ascending)
    lat, lon = swath_coordinates(track, DPR_N_RAYS + 2 * pad)
    heading = float(track["heading"][len(track["heading"]) // 2])
    grid = SceneGrid(lat, lon, SWATH_RESOLUTION_KM, SWATH_RESOLUTION_KM, heading, pad)
    ray_offset = np.broadcast_to(
        np.arange(DPR_N_RAYS + 2 * pad) - pad - DPR_N_RAYS // 2, grid.shape
    ).astype(np.float32)
    location = (*centre, float(n_scans), float(ascending))
    arrays, attrs = _simulate(
        grid, time64, seed, regime, sensors, location, ray_offset, IR_IMAGE_OFFSET_S
    )
    attrs.update(
        ascending=int(ascending),
        centre_lat=round(centre[0], 6),
        centre_lon=round(centre[1], 6),
        heading_deg=round(heading, 3),
    )
    inner = grid.interior
    return _dataset(arrays, attrs, (DIM_SCAN, DIM_RAY), lat[inner], lon[inner], time64)


__all__ = [
    "REGIMES",
    "SENSORS",
    "WORLD_VERSION",
    "simulate_grid_hours",
    "simulate_grid_scene",
    "simulate_swath_scene",
]
