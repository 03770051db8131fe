"""Build Swath-MPR and Full-IPR benchmarks from real product files (``prelib build``).

A build indexes the input folders by file name, runs one unit of work per DPR granule (swath)
or per CLDAS hour (full disc) — :mod:`prelib.data.build.units` — in parallel with dask
(:mod:`prelib.data.build.execution`: by default a ``dask.distributed`` LocalCluster when
``workers > 1``, or any running cluster given by its address), and writes **exactly** the
synthetic schema through :func:`prelib.data.store.write_benchmark` — on the same runner, as the
synthetic builder does (atomic and validated: never a partial store) — plus
``<store>.manifest.json``: the settings,
every input file used, every rejection with its reason, and the source of every sample.

Resumable: each unit's patches go to ``<store>.parts/<key>.nc`` and then a ``<key>.json``
record (both atomic), keyed by the file name, its size and modification time and the thresholds
that change the samples (:func:`prelib.data.build.execution.unit_identity`); a rerun skips units
whose record is current, so an interrupted build continues where it stopped, while a changed file
or other settings rebuild the unit (stale parts are deleted). Samples are ordered by unit name,
then by position. The same file name found in two folders is used once; the copies ignored are
listed under ``duplicates`` in the manifest.

Fault isolation: a granule that cannot be read (any error of its unit) is recorded under
``failed`` in the manifest with the reason, and the build goes on; the result's ``n_failed`` and
``failure_summary`` report them, and ``prelib build`` then exits with status 1
(``fail_fast=True`` / ``--fail-fast``: the first error stops the build, as before). The manifest's
sample count is read back from the written store.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from pathlib import Path

import xarray as xr

from prelib.atomic import check_output, write_json
from prelib.config import RunConfig, deprecated_profile_name
from prelib.conventions import DIM_SAMPLE
from prelib.data.benchmark_config import (
    BenchmarkConfig,
    benchmark_section,
    load_benchmark_config,
)
from prelib.data.build.collocation import IndexedFile, index_products
from prelib.data.build.execution import UnitRunner, read_record, unit_identity, unit_key
from prelib.data.build.units import BuildSettings, process_label_hour, process_swath_granule


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
    n_units : int
        Units (granules or CLDAS hours) of the build.
    failed : tuple of (str, str)
        ``(unit, reason)`` of every unit that failed; their samples are missing.
    """

    store: Path | None
    manifest: Path
    n_samples: int
    n_rejections: int
    n_units: int = 0
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def n_failed(self) -> int:
        """Number of failed units."""
        return len(self.failed)

    def failure_summary(self, limit: int = 5) -> str:
        """``"3 of 412 granules failed: a (reason); b (reason); c (reason)"``, or ``""``."""
        if not self.failed:
            return ""
        shown = "; ".join(f"{unit} ({reason})" for unit, reason in self.failed[:limit])
        more = f"; and {self.n_failed - limit} more" if self.n_failed > limit else ""
        return (
            f"{self.n_failed} of {self.n_units} units failed: {shown}{more} "
            f"(all listed under 'failed' in {self.manifest})"
        )


def deduplicate(files: list[IndexedFile]) -> tuple[list[IndexedFile], list[dict]]:
    """Keep the first file of every file name (paths sorted); report the others.

    Returns
    -------
    unique : list of IndexedFile
        In the input order.
    duplicates : list of dict
        ``{"name", "kept", "ignored": [...], "same_size": bool}`` per repeated name.
    """
    by_name: dict[str, list[IndexedFile]] = {}
    for f in files:
        by_name.setdefault(f.path.name, []).append(f)
    kept = {name: min(group, key=lambda f: str(f.path)) for name, group in by_name.items()}
    unique = [f for f in files if kept[f.path.name] is f]
    duplicates = []
    for name, group in sorted(by_name.items()):
        if len(group) < 2:
            continue
        sizes = {f.path.stat().st_size for f in group}
        duplicates.append(
            {
                "name": name,
                "kept": str(kept[name].path),
                "ignored": sorted(str(f.path) for f in group if f is not kept[name]),
                "same_size": len(sizes) == 1,
            }
        )
    return unique, duplicates


def _index(directory, product: str, duplicates: list[dict]) -> list[IndexedFile]:
    files, repeated = deduplicate(index_products(directory, product))
    for entry in repeated:
        entry["product"] = product
        warnings.warn(
            f"{entry['name']} is in several folders ({entry['kept']} and "
            f"{', '.join(entry['ignored'])}); using the first only",
            stacklevel=3,
        )
    duplicates += repeated
    return files


def _remove_stale_parts(parts: Path, keys: set[str]) -> None:
    """Delete ``<parts>/<key>.{nc,json}`` of keys no unit of this build has (other settings,
    changed files): they must never be assembled."""
    for path in list(parts.glob("*.json")) + list(parts.glob("*.nc")):
        if path.stem not in keys:
            path.unlink(missing_ok=True)


def _load_part_sample(part: Path, index: int) -> xr.Dataset:
    with xr.open_dataset(part, engine="h5netcdf") as ds:
        sample = ds.isel({DIM_SAMPLE: index}).load()
    return sample.drop_vars([v for v in (DIM_SAMPLE,) if v in sample.variables])


def _assemble(
    kind: str,
    units: list[tuple],
    parts: Path,
    out: Path,
    runner: UnitRunner,
    progress: bool,
    settings: dict,
    inputs: dict,
    duplicates: list[dict],
) -> BuildResult:
    from prelib.data.store import open_benchmark, write_benchmark

    records, failed = [], []
    for unit in units:
        key = unit[3]
        record = read_record(key, parts)
        if record is None:
            record = {"unit": unit[0], "failed": "no record was written (worker lost?)"}
        if record.get("failed"):
            failed.append((unit[0], str(record["failed"])))
            continue
        records.append((key, record))
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
        # the samples are assembled where the units ran (the same runner, one progress bar)
        store = write_benchmark(
            make_sample, len(sources), out, kind, attrs=attrs, progress=progress, runner=runner
        )
    n_in_store = 0
    if store is not None:
        with open_benchmark(store, kind) as written:
            n_in_store = int(written.sizes[DIM_SAMPLE])
        if n_in_store != len(sources):
            raise RuntimeError(
                f"{store} holds {n_in_store} samples but {len(sources)} were assembled"
            )
    for unit, reason in failed:
        warnings.warn(f"unit {unit} failed: {reason}", stacklevel=2)
    manifest = {
        "kind": kind,
        "store": str(store) if store else None,
        "n_samples": n_in_store,
        "n_units": len(units),
        "failed": [{"unit": unit, "reason": reason} for unit, reason in failed],
        "duplicates": duplicates,
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
    return BuildResult(store, manifest_path, n_in_store, len(rejections), len(units), tuple(failed))


def _sample_from_sources(sources: tuple[tuple[str, int], ...], index: int) -> xr.Dataset:
    path, position = sources[index]
    return _load_part_sample(Path(path), position)


def _settings(
    config: RunConfig | BenchmarkConfig | None, overrides: dict, where: str
) -> tuple[BuildSettings, dict]:
    """The build thresholds: the data section's, with the given overrides, validated (a
    fraction outside [0, 1] is refused with the option's name)."""
    names = ("min_wet_fraction", "min_valid_fraction")
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"unknown build setting(s) {unknown}; expected {list(names)}")
    given = {k: float(v) for k, v in overrides.items() if v is not None}
    data, _ = benchmark_section(config or BenchmarkConfig(), where, given)
    settings = BuildSettings(**{name: float(getattr(data, name)) for name in names})
    return settings, dataclasses.asdict(settings)


def build_swath_benchmark(
    agri_dir: str | os.PathLike,
    gpm_dir: str | os.PathLike,
    cldas_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    gmi_dir: str | os.PathLike | None = None,
    config: RunConfig | BenchmarkConfig | None = None,
    workers: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
    cluster: str | None = None,
    fail_fast: bool = False,
    profile: str | None = None,
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
    config : RunConfig or BenchmarkConfig, optional
        The run (:func:`prelib.config.resolve`) or its data section: the dry-patch thresholds
        of the synthetic builder (``min_wet_fraction``, ``min_valid_fraction``); default
        :class:`~prelib.data.benchmark_config.BenchmarkConfig` (every profile's thresholds).
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
    fail_fast : bool
        Stop at the first unit that raises (default: record it as failed and go on).
    profile : str, optional
        Deprecated: a profile name read for the thresholds (pass ``config``).
    **overrides
        ``min_wet_fraction``, ``min_valid_fraction``.

    Returns
    -------
    BuildResult
    """
    out = Path(out)
    if profile is not None:  # the old keyword: a profile name, read here
        deprecated_profile_name(profile, "build_swath_benchmark(...)", "config=cfg.data")
        config = load_benchmark_config(profile)
    settings, record = _settings(config, overrides, "build_swath_benchmark(...)")
    # connect first: a wrong cluster address fails before the archive is indexed
    check_output(out, "zarr")
    duplicates: list[dict] = []
    with UnitRunner(scheduler, workers, cluster, fail_fast=fail_fast) as runner:
        agri = _index(agri_dir, "agri_l1", duplicates)
        gmi = _index(gmi_dir or gpm_dir, "gmi_1c", duplicates)
        dpr = _index(gpm_dir, "dpr_2a", duplicates)
        cldas = _index(cldas_dir, "cldas", duplicates)
        if not dpr:
            raise ValueError(f"no 2A-DPR granules found under {gpm_dir}")
        units = [
            (
                f.path.name,
                process_swath_granule,
                (f, gmi, agri, cldas, settings),
                unit_key(f.path.name, unit_identity(f.path, record)),
            )
            for f in dpr
        ]
        parts = out.with_name(out.name + ".parts")
        parts.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(parts, {u[3] for u in units})
        runner.run(units, parts, progress)
        inputs = {
            k: [str(f.path) for f in v]
            for k, v in {"agri_l1": agri, "gmi_1c": gmi, "dpr_2a": dpr, "cldas": cldas}.items()
        }
        return _assemble("swath", units, parts, out, runner, progress, record, inputs, duplicates)


def build_fulldisc_benchmark(
    agri_dir: str | os.PathLike,
    cldas_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    config: RunConfig | BenchmarkConfig | None = None,
    workers: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
    cluster: str | None = None,
    fail_fast: bool = False,
    profile: str | None = None,
    **overrides: float,
) -> BuildResult:
    """Build a Full-IPR benchmark from real AGRI and CLDAS files (one unit per CLDAS hour).

    Parameters are as for :func:`build_swath_benchmark`.
    """
    out = Path(out)
    if profile is not None:  # the old keyword: a profile name, read here
        deprecated_profile_name(profile, "build_fulldisc_benchmark(...)", "config=cfg.data")
        config = load_benchmark_config(profile)
    settings, record = _settings(config, overrides, "build_fulldisc_benchmark(...)")
    check_output(out, "zarr")
    duplicates: list[dict] = []
    with UnitRunner(scheduler, workers, cluster, fail_fast=fail_fast) as runner:
        agri = _index(agri_dir, "agri_l1", duplicates)
        cldas = _index(cldas_dir, "cldas", duplicates)
        if not cldas:
            raise ValueError(f"no CLDAS files found under {cldas_dir}")
        units = [
            (
                f.path.name,
                process_label_hour,
                (f, agri, settings),
                unit_key(f.path.name, unit_identity(f.path, record)),
            )
            for f in cldas
        ]
        parts = out.with_name(out.name + ".parts")
        parts.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(parts, {u[3] for u in units})
        runner.run(units, parts, progress)
        inputs = {"agri_l1": [str(f.path) for f in agri], "cldas": [str(f.path) for f in cldas]}
        return _assemble(
            "fulldisc", units, parts, out, runner, progress, record, inputs, duplicates
        )


__all__ = ["BuildResult", "build_fulldisc_benchmark", "build_swath_benchmark", "deduplicate"]
