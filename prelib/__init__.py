"""prelib: Precipitation Retrieval Expansion (PRE-Net) and satellite-precipitation bias
correction / downscaling, runnable and tested on an embedded synthetic PRE world.

Importing prelib is cheap: heavy dependencies (torch, xarray, cartopy, global-land-mask) are
imported by the sub-modules that need them.
"""

import os
from importlib.metadata import PackageNotFoundError, version

# OpenMP threads that spin while waiting make torch's CPU kernels 4-6x slower as soon as another
# process competes for the cores (measured: benchmarks/cpu_thread_contention.py). Waiting
# passively costs little on an idle machine. Only effective when prelib is imported before torch
# starts its OpenMP runtime; a value set by the user is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    __version__ = version("prelib")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
