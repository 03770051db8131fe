"""On-disk cache of the world's static fields (land mask, built-in terrain).

Static fields are expensive to build (the 1 km global land mask is a 1 GB array; the built-in
orography needs large FFTs) but never change, so each process would rebuild them for nothing —
benchmark builders run several worker processes. They are stored once under
``prelib.paths.data_dir()/cache/sim/`` (``PRELIB_DATA_DIR``), keyed by a hash of what they
are built from, written atomically; if the folder cannot be written the field is simply
rebuilt in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from prelib.atomic import atomic_path
from prelib.paths import data_dir


def cache_dir() -> Path:
    """``data_dir()/cache/sim`` (not created here)."""
    return data_dir() / "cache" / "sim"


def fingerprint(*parts: object) -> str:
    """A short hex key of the given parts (bytes are hashed as-is, others through ``repr``)."""
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
    return digest.hexdigest()


def cached_arrays(
    name: str, key: str, build: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Load ``name-key.npz`` from the cache, or build, store and return the arrays."""
    path = cache_dir() / f"{name}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path) as stored:
                return {k: stored[k] for k in stored.files}
        except (OSError, ValueError, EOFError):
            pass  # a corrupt cache entry is rebuilt below
    arrays = build()
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
    except OSError:
        pass  # read-only data directory: keep the in-memory result only
    return arrays
