"""Where prelib reads data and writes outputs, with environment overrides.

* ``PRELIB_DATA_DIR`` — materialised datasets (Zarr), DEMs, caches. Default: ``<root>/data``.
* ``PRELIB_OUTPUT_DIR`` — run artefacts (executed notebooks, checkpoints, figures, metrics).
  Default: ``<root>/outputs``.
* ``PRELIB_SHARED_DATA`` — the developers' real sample data (tests only). Default:
  ``<repo>/../shared/data`` when it exists.

``<root>`` is the source checkout when prelib is installed in editable mode from one (a
``pyproject.toml`` beside the package), otherwise the current working directory. No personal or
absolute paths are ever baked in.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The source checkout holding prelib, or the current directory for a plain install."""
    candidate = _PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def _env_dir(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    """Directory for datasets and caches (``PRELIB_DATA_DIR``); not created here."""
    return _env_dir("PRELIB_DATA_DIR", project_root() / "data")


def output_dir() -> Path:
    """Directory for run artefacts (``PRELIB_OUTPUT_DIR``); not created here."""
    return _env_dir("PRELIB_OUTPUT_DIR", project_root() / "outputs")


def profile_output_dir(profile: str) -> Path:
    """``output_dir()/<profile>``: where a profile's pipeline run writes."""
    return output_dir() / profile


def catalogs_dir() -> Path:
    """The intake catalogs shipped in the checkout (``<root>/catalogs``)."""
    return project_root() / "catalogs"


def shared_data_dir() -> Path | None:
    """Real sample data for tests (``PRELIB_SHARED_DATA`` or ``../shared/data``), or ``None``.

    Tests that need it skip when this returns ``None``; user code never depends on it.
    """
    value = os.environ.get("PRELIB_SHARED_DATA")
    path = Path(value) if value else project_root().parent / "shared" / "data"
    return path if path.is_dir() else None


class _DataDirText:
    """:func:`data_dir` as text, read each time it is formatted (not at import).

    ``catalogs/synthetic.yaml`` takes its ``data_dir`` default from this object through intake's
    ``import(...)`` template, so that the catalog honours ``PRELIB_DATA_DIR`` and otherwise uses
    the same ``./data`` as the CLI and the notebooks.
    """

    def __str__(self) -> str:
        return str(data_dir())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __fspath__(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"data_dir() = {self}"


CATALOG_DATA_DIR = _DataDirText()
"""The data folder as lazily formatted text, for the intake catalogs' ``data_dir`` default."""
