"""Benchmark stores: where they live, writing one (parallel, atomic, deterministic), opening it.

Layout of a store (Zarr format 2, consolidated metadata, readable by every Zarr library)::

    <root>/synthetic/<profile>/seed<seed>/<kind>_<split>.zarr

* every variable with spatial dimensions is chunked **one sample per chunk** and compressed with
  Blosc-Zstd level 5 with bit-shuffle (float fields with smooth structure compress well that way);
* per-sample scalars (``time``, ``regime``, seeds, winds …) are gathered and written as one chunk
  at the end;
* CF attributes and units come from :mod:`prelib.conventions`; ``time`` is encoded as int64
  seconds since 1970-01-01 so that files are byte-identical across runs;
* the store is written under a temporary name and renamed into place only after it has been
  validated (:func:`prelib.atomic.atomic_path`): a crash or a kill mid-write never leaves a
  partial store under the final name.

Parallelism: each sample is one task that makes the sample **and writes its own chunks**
(compression happens in the workers; only a few scalars travel back), run by the builders' one
execution module (:class:`prelib.data.build.execution.UnitRunner`: ``workers`` local processes,
or a dask.distributed cluster) and counted by its tqdm progress bar. Because samples are pure
functions of their index (:mod:`prelib.data.sample_plan`), the bytes on disk do not depend on the
number of workers.

:func:`write_benchmark` is shared by both builders in :mod:`prelib.data.build`: the synthetic
one (:func:`prelib.data.build.synthetic.build_benchmark`) and the real-data one pass their own
``make_sample``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from prelib.atomic import atomic_path
from prelib.config import deprecated_profile_name
from prelib.conventions import CONVENTIONS_ATTR, DIM_SAMPLE, VALID_RANGES, VAR_TIME
from prelib.data.benchmark_config import check_kind, check_split
from prelib.data.cf import LABEL_HOUR, TIME_BOUNDS_VAR, cf_complete
from prelib.data.schema import validate_benchmark
from prelib.errors import InvalidDataError
from prelib.paths import data_dir

if TYPE_CHECKING:
    from prelib.config import RunConfig
    from prelib.data.build.execution import UnitRunner

TIME_ENCODING: dict[str, object] = {
    "units": "seconds since 1970-01-01T00:00:00",
    "calendar": "proleptic_gregorian",
    "dtype": "int64",
}
STRING_DTYPE = "<U32"
"""Fixed-width dtype of per-sample string metadata (regime names)."""


def _compressor():
    from numcodecs import Blosc

    return Blosc(cname="zstd", clevel=5, shuffle=Blosc.BITSHUFFLE)


def benchmark_path(
    kind: str,
    split: str,
    config: RunConfig | str,
    seed: int | None = None,
    root: str | os.PathLike | None = None,
) -> Path:
    """Default location of a synthetic benchmark store of a run.

    ``<root>/synthetic/<profile>/seed<seed>/<kind>_<split>.zarr`` with ``root`` defaulting to
    :func:`prelib.paths.data_dir` (``PRELIB_DATA_DIR``). The intake catalog
    ``catalogs/synthetic.yaml`` uses the same layout.

    Parameters
    ----------
    kind : {"swath", "fulldisc"}
    split : {"train", "val", "test"}
    config : RunConfig
        The run (:func:`prelib.config.resolve`): its profile names the folder and
        ``config.data.seed`` the benchmark seed. A profile name is deprecated (seed 0 then).
    seed : int, optional
        Another benchmark seed than the run's.
    root : path-like, optional
        The data folder.
    """
    if isinstance(config, str):
        deprecated_profile_name(config, "benchmark_path(...)")
        label, run_seed = config, 0
    else:
        label, run_seed = config.profile, config.data.seed
    return store_path(kind, split, label, run_seed if seed is None else seed, root)


def store_path(
    kind: str, split: str, label: str, seed: int, root: str | os.PathLike | None = None
) -> Path:
    """``<root>/synthetic/<label>/seed<seed>/<kind>_<split>.zarr`` (:func:`benchmark_path`
    of a run whose profile is ``label``)."""
    check_kind(kind)
    check_split(split)
    base = Path(root) if root is not None else data_dir()
    return base / "synthetic" / label / f"seed{int(seed)}" / f"{kind}_{split}.zarr"


def _split_sample(sample: xr.Dataset) -> tuple[list[str], list[str]]:
    """Names of the per-sample fields (spatial) and of the per-sample scalars of a sample."""
    fields, scalars = [], []
    for name, var in sample.variables.items():
        if name in sample.dims:
            continue  # channel / bin coordinates: shared by all samples
        (fields if var.ndim >= 1 else scalars).append(name)
    return fields, scalars


def _template(
    sample: xr.Dataset, n_samples: int, attrs: dict[str, object]
) -> tuple[xr.Dataset, dict]:
    """A lazy dataset with the full store layout, and the Zarr encoding of each variable."""
    import dask.array as da

    fields, scalars = _split_sample(sample)
    data_vars, coords, encoding = {}, {}, {}
    for name in fields + scalars:
        var = sample.variables[name]
        dtype = STRING_DTYPE if var.dtype.kind in "UO" else var.dtype
        shape = (n_samples, *var.shape)
        chunks = (1, *var.shape) if name in fields else (n_samples,)
        lazy = xr.Variable((DIM_SAMPLE, *var.dims), da.zeros(shape, dtype=dtype, chunks=chunks))
        lazy.attrs = dict(var.attrs)
        encoding[name] = {"chunks": chunks, "compressors": (_compressor(),)}
        if var.dtype.kind == "f":
            encoding[name]["_FillValue"] = np.float32(np.nan).astype(var.dtype)
        if var.dtype.kind == "M":
            encoding[name].update(TIME_ENCODING)
            encoding[name]["_FillValue"] = None
        (coords if name in sample.coords else data_vars)[name] = lazy
    for dim in sample.dims:
        if dim in sample.coords:
            coords[dim] = sample.coords[dim].variable
    coords[DIM_SAMPLE] = xr.Variable((DIM_SAMPLE,), np.arange(n_samples, dtype=np.int64))
    template = xr.Dataset(data_vars, coords=coords)
    template.attrs = {**sample.attrs, "Conventions": CONVENTIONS_ATTR, **attrs}
    template = cf_complete(template)
    if TIME_BOUNDS_VAR in template.variables:
        bounds = template[TIME_BOUNDS_VAR]
        template[TIME_BOUNDS_VAR] = bounds.chunk({DIM_SAMPLE: n_samples, bounds.dims[1]: -1})
        encoding[TIME_BOUNDS_VAR] = {**TIME_ENCODING, "_FillValue": None}
        encoding[TIME_BOUNDS_VAR]["chunks"] = (n_samples, bounds.shape[1])
    return template, encoding


def _write_fields(path: Path, index: int, sample: xr.Dataset, fields: list[str]) -> None:
    import zarr

    group = zarr.open_group(str(path), mode="r+", zarr_format=2)
    for name in fields:
        group[name][index] = np.asarray(sample.variables[name].values)


def _scalars(sample: xr.Dataset, scalars: list[str]) -> dict[str, np.ndarray]:
    return {name: np.asarray(sample.variables[name].values) for name in scalars}


def _simulate_and_write(
    make_sample: Callable[[int], xr.Dataset],
    path: Path,
    fields: list[str],
    scalars: list[str],
    index: int,
) -> dict[str, np.ndarray]:
    sample = make_sample(index)
    check_sample_values(sample, index)
    got_fields, got_scalars = _split_sample(sample)
    if sorted(got_fields) != sorted(fields) or sorted(got_scalars) != sorted(scalars):
        raise ValueError(
            f"sample {index} has variables {sorted(got_fields + got_scalars)}, expected "
            f"{sorted(fields + scalars)} (as sample 0)"
        )
    _write_fields(path, index, sample, fields)
    return _scalars(sample, scalars)


def check_sample_values(sample: xr.Dataset, index: int) -> None:
    """Refuse a sample whose values cannot be right (:func:`prelib.validation.sample_problems`:
    a modality under its minimum valid fraction, values outside the physical range), naming it."""
    from prelib.validation import sample_problems

    fields = {name: sample[name].values for name in VALID_RANGES if name in sample.variables}
    problems = sample_problems(fields)
    if problems:
        raise InvalidDataError(f"sample {index} cannot be stored: {'; '.join(problems)}")


def write_benchmark(
    make_sample: Callable[[int], xr.Dataset],
    n_samples: int,
    path: str | os.PathLike,
    kind: str,
    workers: int = 1,
    attrs: dict[str, object] | None = None,
    progress: bool = True,
    runner: UnitRunner | None = None,
) -> Path:
    """Write ``n_samples`` samples to a Zarr store atomically, in parallel.

    Parameters
    ----------
    make_sample : callable
        ``make_sample(index) -> xarray.Dataset``: one sample without the ``sample`` dimension
        (fields such as ``ir`` (ir_channel, scan, ray), 2-D ``lat``/``lon`` coordinates, a scalar
        ``time`` coordinate, scalar metadata variables). Must be deterministic in ``index``
        and picklable (a module-level function or ``functools.partial``) when ``workers > 1``.
    n_samples : int
        Number of samples (>= 1).
    path : path-like
        Final store path (``*.zarr``); replaced atomically if it exists.
    kind : {"swath", "fulldisc"}
        Benchmark kind; the store is validated against it before it is moved into place.
    workers : int
        Local worker processes (1 = in this process) when no ``runner`` is given.
    attrs : dict, optional
        Extra global attributes (build settings); must be deterministic for byte-identical
        rebuilds.
    progress : bool
        Show a tqdm progress bar (one step per sample).
    runner : prelib.data.build.execution.UnitRunner, optional
        Where the samples are made (an open runner, e.g. a command's ``--cluster``); ``workers``
        is then ignored. A cluster's workers write into the store's temporary folder, so they
        must see ``path``'s folder at the same path. Default: ``workers`` local processes.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from tqdm.auto import tqdm

    from prelib.data.build.execution import UnitRunner

    check_kind(kind)
    if not isinstance(n_samples, int | np.integer) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not isinstance(workers, int | np.integer) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if runner is None:
        local = UnitRunner("synchronous" if workers == 1 else "processes", int(workers))
        with local:
            return write_benchmark(
                make_sample, n_samples, path, kind, workers, attrs, progress, runner=local
            )
    path = Path(path)
    attrs = {"benchmark_kind": kind, **(attrs or {})}
    with atomic_path(path) as tmp:
        first = make_sample(0)
        check_sample_values(first, 0)
        if first.attrs.get("source") == "synthetic":  # stamp the world that simulated it
            from prelib.sim.scene import WORLD_VERSION

            attrs.setdefault("world_version", WORLD_VERSION)
        fields, scalars = _split_sample(first)
        template, encoding = _template(first, int(n_samples), attrs)
        validate_benchmark(template, kind)  # fail before simulating the other samples
        template.to_zarr(
            str(tmp), mode="w", zarr_format=2, consolidated=False, compute=False, encoding=encoding
        )
        _write_fields(tmp, 0, first, fields)
        gathered = [_scalars(first, scalars)]
        write_one = functools.partial(_simulate_and_write, make_sample, tmp, fields, scalars)
        with tqdm(total=int(n_samples), desc=f"{kind} → {path.name}", disable=not progress) as bar:
            bar.update(1)
            gathered += runner.map(
                write_one, range(1, int(n_samples)), name="sample", bar=bar, fork=True
            )
        _write_scalars(tmp, template, scalars, gathered)
        _write_time_bounds(tmp, template, gathered)
        import zarr

        zarr.consolidate_metadata(str(tmp))
        with xr.open_zarr(str(tmp), consolidated=True) as written:
            validate_benchmark(written, kind, check_values=True)
    return path


def _write_scalars(path: Path, template: xr.Dataset, scalars: list[str], rows: list[dict]) -> None:
    data = {}
    for name in scalars:
        values = np.stack([row[name] for row in rows])
        var = template.variables[name]
        data[name] = xr.Variable(var.dims, values.astype(var.dtype), var.attrs)
    region = xr.Dataset(
        {n: v for n, v in data.items() if n not in template.coords},
        coords={n: v for n, v in data.items() if n in template.coords},
    )
    region = region.drop_vars([n for n in region.variables if n not in scalars])
    region.to_zarr(
        str(path),
        mode="r+",
        region={DIM_SAMPLE: slice(0, len(rows))},
        zarr_format=2,
        consolidated=False,
    )


def _write_time_bounds(path: Path, template: xr.Dataset, rows: list[dict]) -> None:
    """Write ``time_bnds`` (sample, nv) = [time - 1 h, time] once the times are known."""
    if TIME_BOUNDS_VAR not in template.variables:
        return
    end = np.stack([row[VAR_TIME] for row in rows])
    values = np.stack([end - LABEL_HOUR, end], axis=1)
    bounds = xr.Variable(template[TIME_BOUNDS_VAR].dims, values)
    region = xr.Dataset({TIME_BOUNDS_VAR: bounds})
    region.to_zarr(
        str(path),
        mode="r+",
        region={DIM_SAMPLE: slice(0, len(rows))},
        zarr_format=2,
        consolidated=False,
    )


def _check_world_version(ds: xr.Dataset, path: Path) -> None:
    """Refuse a synthetic store simulated by another version of the world (its samples would
    not match what the world now simulates for the same seeds)."""
    if ds.attrs.get("source") != "synthetic":
        return
    from prelib.sim.scene import WORLD_VERSION

    found = int(ds.attrs.get("world_version", 1))
    if found != WORLD_VERSION:
        raise ValueError(
            f"{path}: built by version {found} of the synthetic world, but this prelib "
            f"simulates version {WORLD_VERSION} (the physics changed, so seeded samples differ); "
            "rebuild it with `prelib simulate build` (delete or move the old store first)"
        )


def open_benchmark(
    path: str | os.PathLike, kind: str | None = None, validate: bool = True
) -> xr.Dataset:
    """Open a benchmark store lazily (dask, one sample per chunk) and check its schema.

    Parameters
    ----------
    path : path-like
        A store written by :func:`write_benchmark`.
    kind : {"swath", "fulldisc"}, optional
        Expected kind; default: the store's ``benchmark_kind`` attribute.
    validate : bool
        Run :func:`prelib.data.schema.validate_benchmark`.

    Raises
    ------
    ValueError
        For a synthetic store of another world version (``world_version`` attribute; stores
        without it are version 1).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no benchmark store at {path}; build one with `prelib simulate build` "
            "(or set PRELIB_DATA_DIR)"
        )
    ds = xr.open_zarr(str(path), consolidated=True)
    _check_world_version(ds, path)
    kind = kind or ds.attrs.get("benchmark_kind")
    if kind is None:
        raise ValueError(f"{path}: no 'benchmark_kind' attribute; pass kind='swath' or 'fulldisc'")
    if validate:
        validate_benchmark(ds, kind)
    return ds


def __getattr__(name: str):
    # ``build_benchmark`` moved to prelib.data.build.synthetic beside the real-data builder
    if name == "build_benchmark":
        import warnings

        warnings.warn(
            "prelib.data.store.build_benchmark moved to prelib.data.build.synthetic",
            DeprecationWarning,
            stacklevel=2,
        )
        from prelib.data.build.synthetic import build_benchmark

        return build_benchmark
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
