"""Build Swath-MPR and Full-IPR benchmarks from real product files (``prelib build``).

A build indexes the input folders by file name, runs one unit of work per DPR granule (swath)
or per CLDAS hour (full disc) — :mod:`prelib.data.build.units` — in parallel with dask
(:mod:`prelib.data.build.execution`: by default a ``dask.distributed`` LocalCluster when
``workers > 1``, or any running cluster given by its address), and writes **exactly** the
synthetic schema through :func:`prelib.data.store.write_benchmark` (atomic and validated:
never a partial store) plus ``<store>.manifest.json``: the settings,
every input file used, every rejection with its reason, and the source of every sample.

Resumable: each unit's patches go to ``<store>.parts/<unit>.nc`` and then a ``<unit>.json``
record (both atomic); a rerun skips units that have a record, so an interrupted build continues
where it stopped and samples are never duplicated (samples are ordered by unit name, then by
position). Delete the ``.parts`` folder to force a full rebuild.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from pathlib import Path

import xarray as xr

from prelib.atomic import write_json
from prelib.conventions import DIM_SAMPLE
from prelib.data.build.units import BuildSettings, process_label_hour, process_swath_granule
from prelib.data.build.collocation import index_products
from prelib.data.build.execution import UnitRunner, unit_key


@dataclasses.dataclass(frozen=True)
class BuildResult:
    """What a build produced.

    Attributes
    ----------
    store : pathlib.Path or None
        The Zarr store, or ``None`` when no patch was kept (nothing is written then).
    manifest : pathlib.Path
        The JSON manifest (always written).
    n_samples, n_rejections : int
    """

    store: Path | None
    manifest: Path
    n_samples: int
    n_rejections: int


def _load_part_sample(part: Path, index: int) -> xr.Dataset:
    with xr.open_dataset(part, engine="h5netcdf") as ds:
        sample = ds.isel({DIM_SAMPLE: index}).load()
    return sample.drop_vars([v for v in (DIM_SAMPLE,) if v in sample.variables])


def _assemble(
    kind: str,
    units: list[tuple[str, object, tuple]],
    parts: Path,
    out: Path,
    workers: int,
    progress: bool,
    settings: dict,
    inputs: dict,
) -> BuildResult:
    from prelib.data.store import write_benchmark

    records = []
    for name, _, _ in units:
        key = unit_key(name)
        records.append((key, json.loads((parts / f"{key}.json").read_text())))
    records.sort(key=lambda r: r[0])
    sources = [
        (parts / f"{key}.nc", i, rec["unit"])
        for key, rec in records
        for i in range(rec["n_samples"])
    ]
    rejections = [r for _, rec in records for r in rec["rejections"]]
    used = sorted({p for _, rec in records for p in rec["inputs"]})
    manifest_path = out.with_name(out.name + ".manifest.json")
    store = None
    if sources:
        make_sample = functools.partial(
            _sample_from_sources, tuple((str(p), i) for p, i, _ in sources)
        )
        attrs = {
            "title": f"prelib real {'Swath-MPR' if kind == 'swath' else 'Full-IPR'} benchmark",
            "source": "real",
            "manifest": manifest_path.name,
            **{k: v for k, v in settings.items() if isinstance(v, int | float | str)},
        }
        store = write_benchmark(make_sample, len(sources), out, kind, workers, attrs, progress)
    manifest = {
        "kind": kind,
        "store": str(store) if store else None,
        "n_samples": len(sources),
        "settings": settings,
        "inputs_indexed": inputs,
        "inputs_used": used,
        "samples": [
            {"sample": k, "unit": unit, "index_in_unit": i}
            for k, (_, i, unit) in enumerate(sources)
        ],
        "rejections": rejections,
    }
    write_json(manifest_path, manifest)
    return BuildResult(store, manifest_path, len(sources), len(rejections))


def _sample_from_sources(sources: tuple[tuple[str, int], ...], index: int) -> xr.Dataset:
    path, position = sources[index]
    return _load_part_sample(Path(path), position)


def _settings(profile: str, overrides: dict) -> tuple[BuildSettings, dict]:
    from prelib.data.benchmark_config import load_benchmark_config

    config = load_benchmark_config(profile)
    values = {}
    for name in ("min_wet_fraction", "min_valid_fraction"):
        value = overrides.get(name)
        values[name] = float(getattr(config, name) if value is None else value)
    settings = BuildSettings(**values)
    return settings, {"profile": profile, **dataclasses.asdict(settings)}


def build_swath_benchmark(
    agri_dir: str | os.PathLike,
    gpm_dir: str | os.PathLike,
    cldas_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    gmi_dir: str | os.PathLike | None = None,
    profile: str = "tiny",
    workers: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
    cluster: str | None = None,
    **overrides: float,
) -> BuildResult:
    """Build a Swath-MPR benchmark from real AGRI, GMI 1C, DPR 2A and CLDAS files.

    Parameters
    ----------
    agri_dir, gpm_dir, cldas_dir : path-like
        Folders searched recursively; files are recognised by their original names. DPR 2A
        granules are taken from ``gpm_dir``, GMI 1C granules from ``gmi_dir`` (default
        ``gpm_dir``).
    out : path-like
        The Zarr store to write (``*.zarr``); ``<out>.manifest.json`` and ``<out>.parts/``
        are written beside it.
    profile : {"tiny", "demo", "paper"}
        Supplies the dry-patch thresholds of the synthetic builder (``prelib/profiles/data.yaml``).
    workers : int
        Parallel workers over granules (dask) and processes for the Zarr write.
    scheduler : {"distributed", "processes", "threads", "synchronous"}, optional
        Where the units run (:mod:`prelib.data.build.execution`). Default: ``"distributed"``
        — a ``LocalCluster`` of ``workers`` single-threaded processes, closed afterwards — when
        ``workers > 1`` or ``cluster`` is given, else ``"synchronous"`` (in this process).
    cluster : str, optional
        Address of a running dask.distributed scheduler (``"tcp://host:8786"``) to run the
        units on instead of a local cluster; its workers must import prelib and see the input
        and output folders at the same paths. A wrong or unreachable address raises
        :class:`ValueError` naming it before any work is done.
    **overrides
        ``min_wet_fraction``, ``min_valid_fraction``.

    Returns
    -------
    BuildResult
    """
    out = Path(out)
    settings, record = _settings(profile, overrides)
    # connect first: a wrong cluster address fails before the archive is indexed
    with UnitRunner(scheduler, workers, cluster) as runner:
        agri = index_products(agri_dir, "agri_l1")
        gmi = index_products(gmi_dir or gpm_dir, "gmi_1c")
        dpr = index_products(gpm_dir, "dpr_2a")
        cldas = index_products(cldas_dir, "cldas")
        if not dpr:
            raise ValueError(f"no 2A-DPR granules found under {gpm_dir}")
        units = [(f.path.name, process_swath_granule, (f, gmi, agri, cldas, settings)) for f in dpr]
        parts = out.with_name(out.name + ".parts")
        parts.mkdir(parents=True, exist_ok=True)
        runner.run(units, parts, progress)
    inputs = {
        k: [str(f.path) for f in v]
        for k, v in {"agri_l1": agri, "gmi_1c": gmi, "dpr_2a": dpr, "cldas": cldas}.items()
    }
    return _assemble("swath", units, parts, out, workers, progress, record, inputs)


def build_fulldisc_benchmark(
    agri_dir: str | os.PathLike,
    cldas_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    profile: str = "tiny",
    workers: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
    cluster: str | None = None,
    **overrides: float,
) -> BuildResult:
    """Build a Full-IPR benchmark from real AGRI and CLDAS files (one unit per CLDAS hour).

    Parameters are as for :func:`build_swath_benchmark`.
    """
    out = Path(out)
    settings, record = _settings(profile, overrides)
    with UnitRunner(scheduler, workers, cluster) as runner:
        agri = index_products(agri_dir, "agri_l1")
        cldas = index_products(cldas_dir, "cldas")
        if not cldas:
            raise ValueError(f"no CLDAS files found under {cldas_dir}")
        units = [(f.path.name, process_label_hour, (f, agri, settings)) for f in cldas]
        parts = out.with_name(out.name + ".parts")
        parts.mkdir(parents=True, exist_ok=True)
        runner.run(units, parts, progress)
    inputs = {"agri_l1": [str(f.path) for f in agri], "cldas": [str(f.path) for f in cldas]}
    return _assemble("fulldisc", units, parts, out, workers, progress, record, inputs)


__all__ = ["BuildResult", "build_fulldisc_benchmark", "build_swath_benchmark"]
