"""GPM core-observatory overpass geometry: ground tracks and the DPR/GMI swath grids.

A circular orbit of 65° inclination, 407 km altitude and 92.6 min period over a rotating
spherical Earth. The sub-satellite point at argument of latitude ``u`` is

    lat = asin(sin i sin u),   lon = Ω + atan2(cos i sin u, cos u) − ω_E t(u),

with ``t(u) = u P / 2π`` since the ascending node. A swath is a scan × ray grid: scans every
5 km along the ground track, rays every 5 km across it (49 rays = the 245 km Ku swath; the
885 km GMI swath contains it), computed with great-circle destination points perpendicular to
the local heading. :func:`draw_overpass_latitude` samples latitudes as the orbit visits them.
"""

from __future__ import annotations

import numpy as np

from prelib.conventions import GPM_INCLINATION_DEG, SWATH_RESOLUTION_KM
from prelib.sim.ir import EARTH_RADIUS_KM

GPM_PERIOD_S = 92.6 * 60.0
GPM_ALTITUDE_KM = 407.0
EARTH_ROTATION_RAD_S = 7.2921159e-5


def destination_point(
    lat: np.ndarray, lon: np.ndarray, bearing_deg: np.ndarray, distance_km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle destination (lat, lon in degrees) from a start, bearing and distance."""
    phi1, lam1 = np.deg2rad(lat), np.deg2rad(lon)
    theta = np.deg2rad(bearing_deg)
    delta = np.asarray(distance_km) / EARTH_RADIUS_KM
    phi2 = np.arcsin(np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta))
    lam2 = lam1 + np.arctan2(
        np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * np.sin(phi2)
    )
    return np.rad2deg(phi2), np.rad2deg(lam2)


def _bearing(lat1, lon1, lat2, lon2) -> np.ndarray:
    phi1, phi2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dlam = np.deg2rad(lon2 - lon1)
    y = np.sin(dlam) * np.cos(phi2)
    x = np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(dlam)
    return np.rad2deg(np.arctan2(y, x)) % 360.0


def _haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    phi1, phi2 = np.deg2rad(lat1), np.deg2rad(lat2)
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin(np.deg2rad(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def gpm_ground_track(
    centre_lat: float,
    centre_lon: float,
    n_scans: int,
    ascending: bool = True,
    spacing_km: float = SWATH_RESOLUTION_KM,
    inclination_deg: float = GPM_INCLINATION_DEG,
) -> dict[str, np.ndarray]:
    """A ground-track segment of ``n_scans`` points ``spacing_km`` apart, centred on a point.

    Parameters
    ----------
    centre_lat, centre_lon : float
        Point the track passes through at its middle scan (|lat| < inclination).
    n_scans : int
        Number of along-track samples.
    ascending : bool
        Northbound (ascending) or southbound pass.
    spacing_km : float
        Along-track sampling (km).
    inclination_deg : float
        Orbit inclination (65° for GPM).

    Returns
    -------
    dict
        ``lat``, ``lon`` (n_scans,) degrees; ``heading`` (n_scans,) degrees clockwise from
        north; ``time_s`` (n_scans,) seconds relative to the middle scan.
    """
    if not isinstance(n_scans, int | np.integer) or n_scans < 2:
        raise ValueError(f"n_scans must be an integer >= 2, got {n_scans!r}")
    inc = np.deg2rad(inclination_deg)
    if abs(centre_lat) >= inclination_deg - 0.5:
        raise ValueError(
            f"centre latitude {centre_lat} is beyond the reach of a {inclination_deg}° orbit"
        )
    u_c = np.arcsin(np.sin(np.deg2rad(centre_lat)) / np.sin(inc))
    if not ascending:
        u_c = np.pi - u_c
    ground_speed = 2 * np.pi * EARTH_RADIUS_KM / GPM_PERIOD_S  # km s-1, ≈ 7.2
    half_span_s = 0.6 * n_scans * spacing_km / ground_speed
    times = np.linspace(-half_span_s, half_span_s, 20 * n_scans + 1)
    u = u_c + 2 * np.pi * times / GPM_PERIOD_S

    def sub_point(u_values, t_values):
        lat = np.rad2deg(np.arcsin(np.sin(inc) * np.sin(u_values)))
        lon = np.rad2deg(
            np.arctan2(np.cos(inc) * np.sin(u_values), np.cos(u_values))
            - EARTH_ROTATION_RAD_S * t_values
        )
        return lat, lon

    lat_f, lon_f = sub_point(u, times)
    lon_f = np.rad2deg(np.unwrap(np.deg2rad(lon_f)))
    lon_f += centre_lon - np.interp(0.0, times, lon_f)
    step = _haversine_km(lat_f[:-1], lon_f[:-1], lat_f[1:], lon_f[1:])
    distance = np.concatenate([[0.0], np.cumsum(step)])
    distance -= np.interp(0.0, times, distance)
    targets = (np.arange(n_scans) - (n_scans - 1) / 2.0) * spacing_km
    lat = np.interp(targets, distance, lat_f)
    lon = np.interp(targets, distance, lon_f)
    time_s = np.interp(targets, distance, times)
    ahead_lat = np.interp(targets + 1.0, distance, lat_f)
    ahead_lon = np.interp(targets + 1.0, distance, lon_f)
    heading = _bearing(lat, lon, ahead_lat, ahead_lon)
    return {"lat": lat, "lon": lon, "heading": heading, "time_s": time_s}


def draw_overpass_latitude(
    rng: np.random.Generator,
    lat_range: tuple[float, float],
    inclination_deg: float = GPM_INCLINATION_DEG,
) -> float:
    """A latitude drawn as often as the orbit's ground track crosses it.

    On a circular orbit the argument of latitude ``u`` advances uniformly, and
    ``sin φ = sin i sin u``, so the time spent per degree of latitude is
    ``∝ cos φ / sqrt(sin² i − sin² φ)``: it peaks near the inclination. GPM's swath therefore
    samples 50–58°N about 1.3 times as often per degree as the tropics (and ever more towards
    65°N), while a
    geostationary disc samples every latitude of the domain every 15 min — one of the sampling
    differences between Swath-MPR and Full-IPR.
    """
    inc = np.deg2rad(inclination_deg)
    lo, hi = (np.arcsin(np.sin(np.deg2rad(v)) / np.sin(inc)) for v in lat_range)
    return float(np.rad2deg(np.arcsin(np.sin(inc) * np.sin(rng.uniform(lo, hi)))))


def swath_coordinates(
    track: dict[str, np.ndarray], n_rays: int, spacing_km: float = SWATH_RESOLUTION_KM
) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of a scan × ray swath grid around a ground track.

    Rays are ``spacing_km`` apart, centred on the track, ray index increasing to the right of
    the flight direction (heading + 90°).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        (n_scans, n_rays) latitude and longitude in degrees (longitude in [−180, 180)
        unwrapped around the track, i.e. may exceed 180 in the Pacific).
    """
    offsets = (np.arange(n_rays) - (n_rays - 1) / 2.0) * spacing_km
    lat, lon = destination_point(
        track["lat"][:, None],
        track["lon"][:, None],
        track["heading"][:, None] + 90.0,
        offsets[None, :],
    )
    return lat, track["lon"][:, None] + (lon - track["lon"][:, None] + 180.0) % 360.0 - 180.0
