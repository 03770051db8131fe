"""Where the benchmark builders' work runs, with one progress bar, and the real builder's records.

Both builders run through :class:`UnitRunner`: the real-data builder's units of work
(:meth:`UnitRunner.run`, recorded so a rerun resumes) and every store's samples
(:meth:`UnitRunner.map`, from :func:`prelib.data.store.write_benchmark`, which the synthetic and
the real builder share). Progress is one tqdm bar advanced by :func:`progress_callback` on the
local dask schedulers and by finished futures on a cluster.

A unit (one DPR granule for Swath-MPR, one CLDAS hour for Full-IPR) returns its patches, the
input files it used and its rejections; :func:`run_unit` writes the patches to
``<parts>/<key>.nc`` and then the record ``<parts>/<key>.json`` (both atomic), so a unit with
a record is finished and is skipped on a rerun. The builder's keys name the file *and* a digest of
its size, modification time and the settings that change the samples (:func:`unit_identity`),
and a record also stamps every input the unit used: a changed file or other settings give
another key or a stale stamp, and the unit is run again instead of reusing stale parts.

Fault isolation: with ``fail_fast=False`` a unit that raises is recorded as failed (the error
type and message in its record, no patches) and the other units go on; failed units are run
again on the next build.

Where the units run (``scheduler``):

``"synchronous"``
    One after another in this process.
``"threads"``, ``"processes"``
    dask's local schedulers with ``workers`` threads or processes.
``"distributed"``
    A :mod:`dask.distributed` cluster: a ``LocalCluster`` of ``workers`` single-threaded worker
    processes started for the build and closed afterwards (also on errors), or — when a
    ``cluster`` address such as ``tcp://host:8786`` is given — any running cluster, whose
    workers must import ``prelib`` and see the input and output folders at the same paths.
    A script that starts a LocalCluster needs the usual ``if __name__ == "__main__":`` guard
    (its workers are spawned processes).

The default is ``"distributed"`` when ``workers > 1`` or a cluster is given, else
``"synchronous"``. Use :class:`UnitRunner` as a context manager: it connects on entry, so a
wrong cluster address fails before any work is done. :func:`cluster_runner` maps a command's
``--cluster`` / ``--workers`` options onto a runner.

The local worker processes of a store's samples are forked on Linux (``map(..., fork=True)``,
:func:`process_context`): no re-import of ``__main__`` (scripts need no
``if __name__ == "__main__"`` guard for them) and the synthetic world's static data loaded by the
first sample (the land mask, the DEM) is shared copy-on-write instead of loaded once per worker.
Other work (units, inference, evaluation: processes that may have run torch) and other systems
keep dask's safe default, spawn.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import xarray as xr

from prelib.atomic import atomic_path, write_json
from prelib.conventions import DIM_SAMPLE

SCHEDULERS = ("synchronous", "threads", "processes", "distributed")
"""Where the units can run (see the module docstring)."""

CONNECT_TIMEOUT_S = 10.0
"""How long to try reaching a ``cluster`` address before giving up, in seconds."""

Unit = tuple
"""One unit of work: ``(name, function, args)`` or ``(name, function, args, key)``;
``function(*args)`` returns ``(samples, inputs_used, rejections)``. Without ``key`` the unit's
record is keyed by its name alone (:func:`unit_key`)."""


def unit_key(name: str, identity: str | None = None) -> str:
    """The file-name-safe key of a unit (its record is ``<key>.json``), with the ``identity``
    digest (:func:`unit_identity`) appended when given."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return safe if identity is None else f"{safe}-{identity}"


def file_stamp(path: str | Path) -> list[int] | None:
    """``[size in bytes, modification time in ns]`` of a file, or ``None`` if it is missing."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return [int(st.st_size), int(st.st_mtime_ns)]


def unit_identity(path: str | Path, settings: dict) -> str:
    """A 16-hex digest of a unit's main file (name, size, modification time) and the settings
    that change its samples: a rerun with another file content or other settings gets another
    key, so its stale parts are never reused."""
    payload = {"name": Path(path).name, "stamp": file_stamp(path), "settings": settings}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _key_of(unit: Unit) -> str:
    return unit[3] if len(unit) > 3 and unit[3] else unit_key(unit[0])


def process_context() -> dict[str, str]:
    """dask configuration of local worker processes: forked on Linux, spawned elsewhere (see
    the module docstring)."""
    return {"multiprocessing.context": "fork" if sys.platform.startswith("linux") else "spawn"}


def progress_callback(bar, prefix: str):
    """The one dask callback of prelib's builders: advance the tqdm ``bar`` by one each time a
    task whose key starts with ``prefix`` finishes (other tasks of the graph are not counted).

    Parameters
    ----------
    bar : tqdm.tqdm
        The progress bar (any object with ``update(n)``).
    prefix : str
        Key prefix of the counted tasks; make it unique per batch (:meth:`UnitRunner.map` adds a
        random batch id) so that two builds never count each other's tasks.

    Returns
    -------
    dask.callbacks.Callback
        Use as a context manager around ``dask.compute``.
    """
    from dask.callbacks import Callback

    class _TaskProgress(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if isinstance(key, str) and key.startswith(prefix):
                bar.update(1)

    return _TaskProgress()


def _call(function: Callable, item):
    """``function(item)``: lets a cluster receive ``function`` once, as a scattered future."""
    return function(item)


def read_record(key: str, parts: Path) -> dict | None:
    """The record of unit ``key`` in ``parts``, or ``None`` when there is none (or unreadable)."""
    try:
        return json.loads((Path(parts) / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def is_finished(name: str, parts: Path, key: str | None = None) -> bool:
    """Whether the unit has a current record in ``parts`` (it is then skipped): recorded, not
    failed, and every input it used still has the size and modification time it had."""
    record = read_record(key or unit_key(name), Path(parts))
    if record is None or record.get("failed"):
        return False
    stamps = record.get("input_stamps") or {}
    return all(file_stamp(path) == stamp for path, stamp in stamps.items())


def run_unit(
    function: Callable,
    name: str,
    parts: str | Path,
    *args,
    key: str | None = None,
    fail_fast: bool = True,
) -> str:
    """Run one unit and record it in ``parts``: patches first, then the record.

    Parameters
    ----------
    function : callable
        ``function(*args) -> (samples, inputs_used, rejections)``; ``samples`` is a list of
        per-patch :class:`xarray.Dataset` without the ``sample`` dimension.
    name : str
        The unit's name (the granule or CLDAS file name).
    parts : path-like
        The build's ``<store>.parts`` folder.
    key : str, optional
        The record's key (default :func:`unit_key` of ``name``).
    fail_fast : bool
        Re-raise the unit's exception (the old behaviour); otherwise record the unit as failed,
        with the error, and return.

    Returns
    -------
    str
        The unit's key.
    """
    parts = Path(parts)
    key = key or unit_key(name)
    try:
        samples, used, rejections = function(*args)
    except Exception as err:
        if fail_fast:
            raise
        reason = f"{type(err).__name__}: {' '.join(str(err).split())}"
        failed = {"unit": name, "n_samples": 0, "inputs": [], "rejections": [], "failed": reason}
        (parts / f"{key}.nc").unlink(missing_ok=True)
        write_json(parts / f"{key}.json", failed)
        return key
    record = {
        "unit": name,
        "n_samples": len(samples),
        "inputs": used,
        "input_stamps": {str(p): file_stamp(p) for p in used},
        "rejections": rejections,
    }
    if samples:
        stacked = xr.concat(
            samples, dim=DIM_SAMPLE, coords="different", compat="equals", join="exact"
        )
        with atomic_path(parts / f"{key}.nc") as tmp:
            stacked.to_netcdf(tmp, engine="h5netcdf")
    write_json(parts / f"{key}.json", record)
    return key


def resolve_scheduler(scheduler: str | None, workers: int, cluster: str | None) -> str:
    """Check the execution options and return the scheduler to use.

    Parameters
    ----------
    scheduler : str or None
        One of :data:`SCHEDULERS`; ``None`` picks ``"distributed"`` when ``workers > 1`` or a
        ``cluster`` is given, else ``"synchronous"``.
    workers : int
        Workers (>= 1) of the local cluster, processes or threads; ignored for the units when a
        ``cluster`` address is given (that cluster's size decides).
    cluster : str or None
        Address of a running dask.distributed scheduler, e.g. ``"tcp://10.0.0.5:8786"``.

    Raises
    ------
    ValueError
        Naming the option that is wrong, with what was expected.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if scheduler is not None and scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS} or None, got {scheduler!r}")
    if cluster is not None:
        if not isinstance(cluster, str) or not cluster.strip():
            raise ValueError(
                f"cluster must be a scheduler address such as 'tcp://host:8786', got {cluster!r}"
            )
        if scheduler not in (None, "distributed"):
            raise ValueError(
                f"a cluster address ({cluster!r}) needs scheduler='distributed', "
                f"got scheduler={scheduler!r}"
            )
        return "distributed"
    if scheduler is None:
        return "distributed" if workers > 1 else "synchronous"
    return scheduler


class UnitRunner:
    """Runs units of work where the execution options say; a context manager.

    On entry the ``"distributed"`` scheduler starts its ``LocalCluster`` or connects to
    ``cluster`` (a wrong or unreachable address raises :class:`ValueError` naming it, before
    any work); on exit the client — and a cluster started here — is closed, also on errors.

    Parameters
    ----------
    scheduler, workers, cluster
        As for :func:`resolve_scheduler`.
    fail_fast : bool
        ``True``: the first failing unit's exception is raised. ``False``: failing units are
        recorded as failed (see :func:`run_unit`) and the others go on.

    Examples
    --------
    >>> with UnitRunner(None, workers=4) as runner:      # doctest: +SKIP
    ...     runner.run(units, parts, progress=True)
    """

    def __init__(
        self,
        scheduler: str | None,
        workers: int,
        cluster: str | None = None,
        fail_fast: bool = True,
    ) -> None:
        self.fail_fast = bool(fail_fast)
        self.scheduler = resolve_scheduler(scheduler, workers, cluster)
        self.workers = int(workers)
        self.cluster = cluster
        self._client = None
        self._local_cluster = None

    def __enter__(self) -> UnitRunner:
        if self.scheduler == "distributed":
            try:
                self._connect()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def client(self):
        """The :class:`distributed.Client` while open (``"distributed"`` only), else ``None``."""
        return self._client

    def _connect(self) -> None:
        from distributed import Client, LocalCluster

        if self.cluster is None:
            self._local_cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = Client(self._local_cluster, set_as_default=False)
            return
        _check_reachable(self.cluster)
        try:
            self._client = Client(self.cluster, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, ValueError, TimeoutError) as err:
            raise ValueError(
                f"cannot connect to the dask cluster at {self.cluster!r}: {err}"
            ) from err

    def close(self) -> None:
        """Close the client and a cluster started here (idempotent)."""
        client, cluster = self._client, self._local_cluster
        self._client = self._local_cluster = None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def run(self, units: Sequence[Unit], parts: str | Path, progress: bool = True) -> int:
        """Run every unit of ``units`` that has no record in ``parts`` yet.

        A tqdm bar counts finished units (those recorded before start as already done). The
        first failing unit's exception is raised; the units finished until then keep their
        records, so a rerun continues from there.

        Parameters
        ----------
        units : sequence of (name, function, args)
            See :data:`Unit`.
        parts : path-like
            The build's ``<store>.parts`` folder (created by the caller).
        progress : bool
            Show the progress bar.

        Returns
        -------
        int
            The number of units run now (not skipped).
        """
        from tqdm.auto import tqdm

        parts = Path(parts)
        todo = [u for u in units if not is_finished(u[0], parts, _key_of(u))]
        with tqdm(
            total=len(units), initial=len(units) - len(todo), desc="units", disable=not progress
        ) as bar:
            if not todo:
                return 0
            if self.scheduler == "distributed":
                if self._client is None:
                    raise RuntimeError(
                        "UnitRunner.run with the distributed scheduler needs "
                        "`with UnitRunner(...) as runner:`"
                    )
                self._run_distributed(todo, parts, bar)
            elif self.scheduler == "synchronous" or self.workers == 1:
                for unit in todo:
                    name, function, args = unit[:3]
                    run_unit(
                        function, name, parts, *args, key=_key_of(unit), fail_fast=self.fail_fast
                    )
                    bar.update(1)
            else:
                self._run_local_dask(todo, parts, bar)
        return len(todo)

    def map(
        self,
        function: Callable,
        items: Sequence,
        name: str = "task",
        bar=None,
        fork: bool = False,
    ) -> list:
        """``[function(item) for item in items]``, run where the runner's scheduler says.

        For work other than the real builder's recorded units: the samples of a benchmark store
        (:func:`prelib.data.store.write_benchmark`, both builders), ``prelib infer --times``,
        ``prelib evaluate --cluster``. The results come back in the order of ``items``; the first
        failing item's exception is raised and the others are cancelled. ``function`` must be
        picklable (a module-level function or a ``functools.partial`` of one) for the process
        and distributed schedulers; on a cluster it is sent to the workers once.

        Parameters
        ----------
        function : callable
            ``function(item) -> result``.
        items : sequence
        name : str
            Names the tasks (``prelib-<name>-<batch>-<i>``).
        bar : tqdm.tqdm, optional
            Advanced by one as each item finishes (:func:`progress_callback` on the local dask
            schedulers, finished futures on a cluster).
        fork : bool
            Fork local worker processes on Linux (:func:`process_context`); for work that has
            not run torch in this process (the synthetic samples).
        """
        items = list(items)
        prefix = f"prelib-{name}-{uuid.uuid4().hex[:8]}-"  # unique on a shared cluster
        if self.scheduler == "distributed":
            return self._map_distributed(function, items, prefix, bar)
        if self.scheduler == "synchronous" or self.workers == 1:
            results = []
            for item in items:
                results.append(function(item))
                if bar is not None:
                    bar.update(1)
            return results
        import contextlib

        import dask

        run = dask.delayed(function, pure=False)
        tasks = [run(item, dask_key_name=f"{prefix}{i}") for i, item in enumerate(items)]
        counting = progress_callback(bar, prefix) if bar is not None else contextlib.nullcontext()
        forking = dask.config.set(process_context()) if fork else contextlib.nullcontext()
        with counting, forking:
            return list(dask.compute(*tasks, scheduler=self.scheduler, num_workers=self.workers))

    def _map_distributed(self, function: Callable, items: list, prefix: str, bar) -> list:
        from distributed import as_completed

        client = self._client
        if client is None:
            raise RuntimeError("UnitRunner.map needs `with UnitRunner(...) as runner:`")
        if not items:
            return []
        shared = client.scatter(function, hash=False)  # sent once, not once per item
        futures = [
            client.submit(_call, shared, item, key=f"{prefix}{i}", pure=False)
            for i, item in enumerate(items)
        ]
        try:
            for future in as_completed(futures, loop=client.loop):
                future.result()  # re-raises the item's own exception
                if bar is not None:
                    bar.update(1)
            return client.gather(futures)
        except BaseException:
            client.cancel(futures)
            raise

    def _run_local_dask(self, todo: list[Unit], parts: Path, bar) -> None:
        import dask

        prefix = f"prelib-unit-{uuid.uuid4().hex[:8]}-"
        run = dask.delayed(run_unit, pure=False)
        tasks = [
            run(
                unit[1],
                unit[0],
                parts,
                *unit[2],
                key=_key_of(unit),
                fail_fast=self.fail_fast,
                dask_key_name=f"{prefix}{i}",
            )
            for i, unit in enumerate(todo)
        ]
        with progress_callback(bar, prefix):
            dask.compute(*tasks, scheduler=self.scheduler, num_workers=self.workers)

    def _run_distributed(self, todo: list[Unit], parts: Path, bar) -> None:
        from distributed import as_completed

        client = self._client
        args_of = _share_common_arguments(client, todo)
        build = uuid.uuid4().hex[:8]  # keys unique on a cluster shared by several builds
        futures = [
            client.submit(
                _run_unit_keyed,
                unit[1],
                unit[0],
                str(parts),
                _key_of(unit),
                self.fail_fast,
                *args_of[i],
                key=f"prelib-unit-{build}-{_key_of(unit)}",
                pure=False,
            )
            for i, unit in enumerate(todo)
        ]
        try:
            for future in as_completed(futures, loop=client.loop):
                key = future.result()  # re-raises the unit's own exception
                if not (parts / f"{key}.json").exists():
                    raise RuntimeError(
                        f"a cluster worker recorded unit {key!r} in {parts}, but this process "
                        "cannot see it: with cluster=..., the workers must share the input and "
                        "output folders at the same paths"
                    )
                bar.update(1)
        except BaseException:
            client.cancel(futures)
            raise


def cluster_runner(cluster: str | None, workers: int = 1) -> UnitRunner:
    """The :class:`UnitRunner` of a command's ``--cluster`` option.

    Parameters
    ----------
    cluster : str or None
        ``None``: in this process (``workers`` > 1: a dask process pool); ``"local"``: a
        ``LocalCluster`` of ``workers`` single-threaded processes started for the command; else
        the address of a running dask.distributed scheduler (``tcp://host:8786``), whose workers
        must import ``prelib`` and see the input and output folders at the same paths.
    workers : int
        Workers of the local pool or cluster (ignored for an address).
    """
    if cluster is None:
        return UnitRunner(None if workers == 1 else "processes", workers)
    if cluster == "local":
        return UnitRunner("distributed", workers)
    return UnitRunner(None, workers, cluster)


def _share_common_arguments(client, todo: list[Unit]) -> list[tuple]:
    """Replace the argument objects shared by several units (the file indexes, which hold one
    entry per file of the archive) by futures scattered to the cluster once, rather than
    serialising them again for every unit."""
    counts: dict[int, int] = {}
    objects: dict[int, object] = {}
    for unit in todo:
        for arg in unit[2]:
            if isinstance(arg, list | tuple | dict):
                counts[id(arg)] = counts.get(id(arg), 0) + 1
                objects[id(arg)] = arg
    shared = [i for i, n in counts.items() if n > 1]
    if not shared:
        return [unit[2] for unit in todo]
    # scatter a list of objects: one future per object, in one round trip
    futures = dict(
        zip(shared, client.scatter([objects[i] for i in shared], hash=False), strict=True)
    )
    return [tuple(futures.get(id(arg), arg) for arg in unit[2]) for unit in todo]


def _run_unit_keyed(function, name, parts, key, fail_fast, *args) -> str:
    """:func:`run_unit` with the key and ``fail_fast`` positional (``Client.submit`` keeps
    ``key=`` for itself)."""
    return run_unit(function, name, parts, *args, key=key, fail_fast=fail_fast)


def _check_reachable(address: str) -> None:
    """Open and close one connection to ``address`` so a wrong address fails fast and clearly
    (a failed :class:`distributed.Client` leaves a half-built object that logs on deletion)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect

    async def probe() -> None:
        comm = await connect(address, timeout=CONNECT_TIMEOUT_S)
        await comm.close()

    try:
        # a thread of its own: asyncio.run fails inside a running loop (Jupyter)
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, probe()).result()
    except (OSError, ValueError, TimeoutError) as err:
        raise ValueError(
            f"cannot connect to the dask cluster at {address!r} (expected a running "
            f"dask.distributed scheduler, e.g. 'tcp://host:8786'): {err}"
        ) from err


__all__ = [
    "CONNECT_TIMEOUT_S",
    "SCHEDULERS",
    "Unit",
    "UnitRunner",
    "cluster_runner",
    "file_stamp",
    "is_finished",
    "process_context",
    "progress_callback",
    "read_record",
    "resolve_scheduler",
    "run_unit",
    "unit_identity",
    "unit_key",
]
