"""prelib: Precipitation Retrieval Expansion (PRE-Net) and satellite-precipitation bias
correction / downscaling, runnable and tested on an embedded synthetic PRE world.

Importing prelib is cheap: heavy dependencies (torch, xarray, cartopy, global-land-mask) are
imported by the sub-modules that need them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prelib")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
