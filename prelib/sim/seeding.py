"""Deterministic random streams for the synthetic world.

Every random number of a scene is drawn from one ``numpy.random.Generator`` whose seed is a hash
of ``(seed, time, location, purpose)``. The same request therefore gives bit-identical scenes in
any process, on any machine and in any order, and no scene has to be stored: the world is
generated lazily, tile by tile, from its coordinates.
"""

from __future__ import annotations

import datetime as _dt
import hashlib

import numpy as np


def as_datetime64(time: object) -> np.datetime64:
    """Convert ``time`` (``str``, ``datetime``, ``np.datetime64``, ``pd.Timestamp``) to UTC ns.

    Raises
    ------
    ValueError
        If ``time`` cannot be read as a date-time.
    """
    if isinstance(time, _dt.datetime) and time.tzinfo is not None:
        time = time.astimezone(_dt.UTC).replace(tzinfo=None)
    if hasattr(time, "to_datetime64"):  # pandas.Timestamp
        time = time.tz_localize(None) if getattr(time, "tzinfo", None) else time
        time = time.to_datetime64()
    try:
        value = np.datetime64(time, "ns")
    except (ValueError, TypeError):
        raise ValueError(
            f"time must be a date-time (ISO string, datetime or datetime64), got {time!r}"
        ) from None
    if np.isnat(value):
        raise ValueError(f"time must be a valid date-time, got {time!r}")
    return value


def scene_rng(
    seed: int, time: object, *location: float, purpose: str = "scene"
) -> np.random.Generator:
    """A generator seeded from a hash of ``(seed, time, location, purpose)``.

    Parameters
    ----------
    seed : int
        Non-negative world seed.
    time : date-time-like
        Scene time; converted to integer nanoseconds.
    *location : float
        Numbers that locate the scene (box bounds, resolution, centre …); rounded to 1e-6 so that
        float noise in the caller does not change the stream.
    purpose : str
        Separates independent streams of one scene (``"weather"``, ``"ir-noise"`` …).
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    stamp = int(as_datetime64(time).astype("int64"))
    parts = [str(int(seed)), str(stamp), purpose] + [f"{float(v):.6f}" for v in location]
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=16).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "little")))
