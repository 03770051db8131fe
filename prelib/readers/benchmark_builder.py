"""Build Swath-MPR and Full-IPR benchmarks from real product files (``prelib build``).

A build indexes the input folders by file name, runs one unit of work per DPR granule (swath)
or per CLDAS hour (full disc) — :mod:`prelib.readers.benchmark_units` — in parallel with dask,
and writes **exactly** the synthetic schema through :func:`prelib.data.store.write_benchmark`
(atomic and validated: never a partial store) plus ``<store>.manifest.json``: the settings,
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
import re
from pathlib import Path

import xarray as xr

from prelib.atomic import atomic_path, write_json
from prelib.conventions import DIM_SAMPLE
from prelib.readers.benchmark_units import BuildSettings, process_label_hour, process_swath_granule
from prelib.readers.collocation import index_products


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


def _unit_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _run_unit(function, unit_name: str, parts: Path, args: tuple) -> str:
    """Run one unit and record its result in ``parts`` (patches first, then the record)."""
    samples, used, rejections = function(*args)
    key = _unit_key(unit_name)
    record = {"unit": unit_name, "n_samples": len(samples), "inputs": used,
              "rejections": rejections}  # fmt: skip
    if samples:
        stacked = xr.concat(samples, dim=DIM_SAMPLE, coords="different", compat="equals",
                            join="exact")  # fmt: skip
        with atomic_path(parts / f"{key}.nc") as tmp:
            stacked.to_netcdf(tmp, engine="h5netcdf")
    write_json(parts / f"{key}.json", record)
    return key


def _load_part_sample(part: Path, index: int) -> xr.Dataset:
    with xr.open_dataset(part, engine="h5netcdf") as ds:
        sample = ds.isel({DIM_SAMPLE: index}).load()
    return sample.drop_vars([v for v in (DIM_SAMPLE,) if v in sample.variables])


def _run_units(units: list[tuple[str, object, tuple]], parts: Path, workers: int,
               progress: bool, scheduler: str = "processes") -> None:  # fmt: skip
    """Run the units without a record: in order in this process (``workers == 1``), else as
    dask tasks on ``workers`` processes (or threads); a tqdm bar counts finished units."""
    from tqdm.auto import tqdm

    todo = [u for u in units if not (parts / f"{_unit_key(u[0])}.json").exists()]
    with tqdm(total=len(units), initial=len(units) - len(todo), desc="units",
              disable=not progress) as bar:  # fmt: skip
        if workers == 1:
            for name, function, args in todo:
                _run_unit(function, name, parts, args)
                bar.update(1)
            return
        import dask
        from dask.callbacks import Callback

        class _Progress(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                if isinstance(key, str) and key.startswith("prelib-unit-"):
                    bar.update(1)

        run = dask.delayed(_run_unit, pure=False)
        tasks = [run(function, name, parts, args, dask_key_name=f"prelib-unit-{i}")
                 for i, (name, function, args) in enumerate(todo)]  # fmt: skip
        with _Progress():
            dask.compute(*tasks, scheduler=scheduler, num_workers=int(workers))


def _assemble(kind: str, units: list[tuple[str, object, tuple]], parts: Path, out: Path,
              workers: int, progress: bool, settings: dict, inputs: dict) -> BuildResult:  # fmt: skip
    from prelib.data.store import write_benchmark

    records = []
    for name, _, _ in units:
        key = _unit_key(name)
        records.append((key, json.loads((parts / f"{key}.json").read_text())))
    records.sort(key=lambda r: r[0])
    sources = [(parts / f"{key}.nc", i, rec["unit"]) for key, rec in records
               for i in range(rec["n_samples"])]  # fmt: skip
    rejections = [r for _, rec in records for r in rec["rejections"]]
    used = sorted({p for _, rec in records for p in rec["inputs"]})
    manifest_path = out.with_name(out.name + ".manifest.json")
    store = None
    if sources:
        make_sample = functools.partial(
            _sample_from_sources, tuple((str(p), i) for p, i, _ in sources)
        )
        attrs = {"title": f"prelib real {'Swath-MPR' if kind == 'swath' else 'Full-IPR'} benchmark",
                 "source": "real", "manifest": manifest_path.name,
                 **{k: v for k, v in settings.items() if isinstance(v, int | float | str)}}  # fmt: skip
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
    scheduler: str = "processes",
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
        Parallel processes over granules (dask) and for the Zarr write.
    scheduler : {"processes", "threads"}
        dask scheduler for the units when ``workers > 1``.
    **overrides
        ``min_wet_fraction``, ``min_valid_fraction``.

    Returns
    -------
    BuildResult
    """
    if scheduler not in ("processes", "threads"):
        raise ValueError(f"scheduler must be 'processes' or 'threads', got {scheduler!r}")
    out = Path(out)
    settings, record = _settings(profile, overrides)
    agri = index_products(agri_dir, "agri_l1")
    gmi = index_products(gmi_dir or gpm_dir, "gmi_1c")
    dpr = index_products(gpm_dir, "dpr_2a")
    cldas = index_products(cldas_dir, "cldas")
    if not dpr:
        raise ValueError(f"no 2A-DPR granules found under {gpm_dir}")
    units = [(f.path.name, process_swath_granule, (f, gmi, agri, cldas, settings)) for f in dpr]
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    _run_units(units, parts, workers, progress, scheduler)
    inputs = {k: [str(f.path) for f in v] for k, v in
              {"agri_l1": agri, "gmi_1c": gmi, "dpr_2a": dpr, "cldas": cldas}.items()}  # fmt: skip
    return _assemble("swath", units, parts, out, workers, progress, record, inputs)


def build_fulldisc_benchmark(
    agri_dir: str | os.PathLike,
    cldas_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    profile: str = "tiny",
    workers: int = 1,
    progress: bool = True,
    scheduler: str = "processes",
    **overrides: float,
) -> BuildResult:
    """Build a Full-IPR benchmark from real AGRI and CLDAS files (one unit per CLDAS hour).

    Parameters are as for :func:`build_swath_benchmark`.
    """
    if scheduler not in ("processes", "threads"):
        raise ValueError(f"scheduler must be 'processes' or 'threads', got {scheduler!r}")
    out = Path(out)
    settings, record = _settings(profile, overrides)
    agri = index_products(agri_dir, "agri_l1")
    cldas = index_products(cldas_dir, "cldas")
    if not cldas:
        raise ValueError(f"no CLDAS files found under {cldas_dir}")
    units = [(f.path.name, process_label_hour, (f, agri, settings)) for f in cldas]
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    _run_units(units, parts, workers, progress, scheduler)
    inputs = {"agri_l1": [str(f.path) for f in agri], "cldas": [str(f.path) for f in cldas]}
    return _assemble("fulldisc", units, parts, out, workers, progress, record, inputs)


__all__ = ["BuildResult", "build_fulldisc_benchmark", "build_swath_benchmark"]
