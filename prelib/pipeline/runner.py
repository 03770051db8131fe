"""Run the numbered notebooks with papermill, in the order of ``notebooks/run_order.yaml``.

Each notebook acts like a function: the runner injects ``profile``, ``seed``, ``device``,
``output_dir``, the run's folders ``run_dir`` (trained networks, in the layout of
:class:`prelib.workflow.artefacts.RunLayout` that the CLI shares) and ``data_dir`` (benchmark
stores) where the notebook declares them, and the artefact paths it takes from earlier
notebooks, executes it into
``outputs/<profile>/<name>/<name>.ipynb``, and collects the ``metrics.json`` it recorded into
``outputs/<profile>/summary.json`` together with durations. Everything that can be checked is
checked before any notebook starts (profile, names, injectable parameters, given paths); the run
stops at the first failing notebook, shows the failing cell, and the command exits non-zero.

Notebooks whose inputs are ready can run at the same time (``jobs``): each entry of the run
order names the earlier notebooks it ``needs`` (whose networks or stores it uses; without the
key, every earlier notebook), and a notebook starts once those have finished, the longest
chain of waiting notebooks first. Each kernel starts with its share of the CPU cores
(``PRELIB_THREADS`` and ``OMP_NUM_THREADS``, unless already set): the cores divided by the
notebooks running when it starts, so one that runs alone while the others wait for it gets
them all.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import yaml

from prelib.atomic import write_json
from prelib.config import check_profile, resolve
from prelib.errors import PrelibError
from prelib.notebook import read_metrics
from prelib.paths import data_dir as default_data_root
from prelib.paths import output_dir as default_output_root
from prelib.paths import project_root

RUN_ORDER_FILE = "run_order.yaml"
STANDARD_PARAMETERS = ("profile", "seed", "device", "output_dir")
RUN_PARAMETERS = ("run_dir", "data_dir")
"""Injected into the notebooks that declare them: the run folder and the data folder."""


class _CellProgress:
    """A file-like sink for papermill's tqdm bar that logs one line per executed cell.

    A log file or a CI console shows ``[demo] 02_teacher_training: cell 7/23 [01:12]`` as each
    cell finishes, instead of one line per notebook and minutes of silence in between.
    """

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._last = ""

    def write(self, text: str) -> int:
        for part in text.replace("\r", "\n").split("\n"):
            part = part.strip()
            if part and part != self._last:
                self._last = part
                self._log(part)
        return len(text)

    def flush(self) -> None:
        return None


def _progress_bar(profile: str, name: str, log: Callable[[str], None]) -> dict[str, Any]:
    """papermill ``progress_bar`` settings: a line per cell through ``log``."""
    return {
        "desc": f"[{profile}] {name}",
        "file": _CellProgress(log),
        "bar_format": "{desc}: cell {n_fmt}/{total_fmt} [{elapsed}]",
        "mininterval": 0,
        "miniters": 1,
    }


def ipc_kernel_manager():
    """A Jupyter kernel manager on IPC (Unix-socket) transport.

    The pipeline's kernels are local, so they need no TCP ports; over TCP without CurveZMQ keys
    ipykernel ≥ 7 prints "Kernel is running over TCP without encryption" at every start. The
    sockets live beside the kernel's connection file in Jupyter's runtime folder. ``None`` on
    Windows, which has no IPC transport (papermill's default manager is used there).
    """
    if sys.platform == "win32":
        return None
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_default(self) -> str:
            # One socket prefix per kernel: jupyter_client's default ("kernel-ipc" in the
            # working folder) makes kernels started at the same time pick the same sockets.
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            return str(runtime / f"prelib-{uuid.uuid4().hex[:12]}-ipc")

    return IPCKernelManager


class PipelineError(PrelibError, RuntimeError):
    """A pipeline that cannot start, or a notebook that failed while running."""


@dataclasses.dataclass(frozen=True)
class NotebookStep:
    """One notebook of the pipeline.

    Attributes
    ----------
    name : str
        Notebook stem, e.g. ``"00_quickstart"``; also the name of its output folder.
    purpose : str
        One line shown by ``prelib pipeline list``.
    inputs : dict[str, str]
        Parameter name → ``"<earlier notebook>/<relative path>"`` artefacts it takes.
    figures : tuple[str, ...]
        Figure stems (PNG in its output folder) that ``make figures`` curates.
    needs : tuple[str, ...] or None
        Earlier notebooks that must have finished before this one starts (their trained
        networks or benchmark stores); ``None``: every earlier notebook. The sources of
        ``inputs`` are always needed.
    """

    name: str
    purpose: str = ""
    inputs: dict[str, str] = dataclasses.field(default_factory=dict)
    figures: tuple[str, ...] = ()
    needs: tuple[str, ...] | None = None


def notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the checkout."""
    return project_root() / "notebooks"


def load_run_order(directory: str | Path | None = None) -> list[NotebookStep]:
    """Read ``run_order.yaml``; every listed notebook must exist and names must be unique."""
    directory = Path(directory) if directory else notebooks_dir()
    path = directory / RUN_ORDER_FILE
    if not path.is_file():
        raise PipelineError(f"no run order at {path}")
    raw = yaml.safe_load(path.read_text()) or {}
    steps = []
    for entry in raw.get("notebooks", []):
        unknown = set(entry) - {f.name for f in dataclasses.fields(NotebookStep)}
        if unknown:
            raise PipelineError(f"{path}: unknown key(s) {sorted(unknown)} in entry {entry}")
        step = NotebookStep(
            name=entry["name"],
            purpose=entry.get("purpose", ""),
            inputs=dict(entry.get("inputs") or {}),
            figures=tuple(entry.get("figures") or ()),
            needs=None if entry.get("needs") is None else tuple(entry["needs"]),
        )
        if not (directory / f"{step.name}.ipynb").is_file():
            raise PipelineError(f"{path} lists {step.name!r} but {step.name}.ipynb does not exist")
        steps.append(step)
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise PipelineError(f"{path}: duplicate notebook names in {names}")
    for step in steps:
        earlier = names[: names.index(step.name)]
        for param, ref in step.inputs.items():
            source = ref.split("/", 1)[0]
            if source not in earlier:
                raise PipelineError(
                    f"{step.name}: input {param!r} comes from {source!r}, "
                    "which is not an earlier notebook of the run order"
                )
        for need in step.needs or ():
            if need not in earlier:
                raise PipelineError(
                    f"{path}: {step.name} needs {need!r}, which is not an earlier notebook "
                    "of the run order"
                )
    return steps


def step_needs(step: NotebookStep, steps: list[NotebookStep]) -> set[str]:
    """Names of the notebooks of ``steps`` (the run order) that must finish before ``step``."""
    names = [s.name for s in steps]
    if step.needs is None:
        return set(names[: names.index(step.name)])
    return set(step.needs) | {ref.split("/", 1)[0] for ref in step.inputs.values()}


def default_jobs(profile: str) -> int:
    """Notebooks run at once by default: ``tiny`` (small networks, a smoke test) runs two on a
    machine with two or more cores, the other profiles one at a time."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2, cores or 1) if profile == "tiny" else 1


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """Names and defaults of the notebook's ``parameters`` cell (via papermill)."""
    import papermill

    return papermill.inspect_notebook(str(path))


def resolve_standard_overrides(
    profile: str, seed: int, overrides: dict[str, Any] | None
) -> tuple[str, int, dict[str, Any]]:
    """Move ``profile`` / ``seed`` given as ``-p name=value`` overrides into the run's own
    settings, validated exactly like ``--profile`` / ``--seed`` (so ``summary.json`` and the
    output folder name the profile that really ran).

    Raises
    ------
    PipelineError
        Unknown profile, or a seed that is not a non-negative integer.
    """
    overrides = dict(overrides or {})
    if "profile" in overrides:
        profile = str(overrides.pop("profile"))
    if "seed" in overrides:
        value = overrides.pop("seed")
        try:
            seed = int(str(value))
        except ValueError:
            raise PipelineError(f"seed must be a non-negative integer, got {value!r}") from None
        if seed < 0:
            raise PipelineError(f"seed must be a non-negative integer, got {value!r}")
    try:
        check_profile(profile)
    except ValueError as err:
        raise PipelineError(str(err)) from None
    return profile, seed, overrides


def plan_pipeline(
    profile: str,
    only: list[str] | None = None,
    output_root: str | Path | None = None,
    seed: int = 0,
    device: str = "auto",
    overrides: dict[str, Any] | None = None,
    directory: str | Path | None = None,
    data_root: str | Path | None = None,
) -> list[tuple[NotebookStep, dict[str, Any]]]:
    """Resolve the steps to run and their parameters, checking everything before any work.

    ``data_root`` is the data folder of the benchmark stores (default ``PRELIB_DATA_DIR``).

    Raises
    ------
    PipelineError
        Unknown profile or notebook name, a parameter the notebook's ``parameters`` cell does not
        declare (papermill could not inject it), or an overridden artefact path that is missing.
    """
    profile, seed, overrides = resolve_standard_overrides(profile, seed, overrides)
    try:
        resolve(profile, seed=seed)  # the whole configuration is valid before any notebook runs
    except ValueError as err:
        raise PipelineError(str(err)) from None
    directory = Path(directory) if directory else notebooks_dir()
    steps = load_run_order(directory)
    names = [s.name for s in steps]
    selected = steps
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise PipelineError(f"unknown notebook(s) {unknown}; the run order has {names}")
        selected = [s for s in steps if s.name in only]
    root = Path(output_root) if output_root else default_output_root() / profile
    overrides = dict(overrides or {})
    planned = []
    for step in selected:
        declared = notebook_parameters(directory / f"{step.name}.ipynb")
        params: dict[str, Any] = {
            "profile": profile,
            "seed": seed,
            "device": device,
            "output_dir": str((root / step.name).resolve()),
        }
        run_params = {"run_dir": root, "data_dir": Path(data_root or default_data_root())}
        for name, path in run_params.items():
            if name in declared:
                params[name] = str(path.resolve())
        for param, ref in step.inputs.items():
            source, _, relative = ref.partition("/")
            params[param] = str((root / source / relative).resolve())
        for key, value in overrides.items():
            if key in declared:
                params[key] = value
                if key in step.inputs and not Path(str(value)).exists():
                    raise PipelineError(f"{step.name}: {key}={value!r} does not exist")
        missing = [p for p in params if p not in declared]
        if missing:
            raise PipelineError(
                f"{step.name}.ipynb has no parameter(s) {missing} in its 'parameters' cell; "
                f"declared: {sorted(declared)}"
            )
        planned.append((step, params))
    stray = [k for k in overrides if not any(k in p for _, p in planned)]
    if stray:
        raise PipelineError(f"override(s) {stray} match no parameter of the selected notebooks")
    return planned


class _NotebookFailed(Exception):
    """A notebook's failure inside a worker thread: its record and the message to raise."""

    def __init__(self, record: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.record = record
        self.message = message


def _execute_step(
    step: NotebookStep,
    params: dict[str, Any],
    directory: Path,
    profile: str,
    manager,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Run one notebook with papermill; its summary record, or :class:`_NotebookFailed`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = Path(params["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    executed = out / f"{step.name}.ipynb"
    log(f"[{profile}] {step.name}: running -> {executed}")
    t0 = time.perf_counter()
    record: dict[str, Any] = {"output": str(executed)}
    try:
        papermill.execute_notebook(
            str(directory / f"{step.name}.ipynb"),
            str(executed),
            parameters=params,
            kernel_name="python3",
            cwd=str(directory),
            progress_bar=_progress_bar(profile, step.name, log),
            **({"kernel_manager_class": manager} if manager else {}),
        )
    except PapermillExecutionError as err:
        record.update(status="failed", seconds=round(time.perf_counter() - t0, 1))
        record["error"] = f"{err.ename}: {err.evalue}"
        raise _NotebookFailed(
            record,
            f"{step.name} failed in cell {err.cell_index} (execution {err.exec_count}):\n"
            f"{err.source}\n---\n{err.ename}: {err.evalue}\n"
            f"executed copy with the traceback: {executed}",
        ) from None
    record.update(status="ok", seconds=round(time.perf_counter() - t0, 1))
    record["metrics"] = read_metrics(out)
    log(f"[{profile}] {step.name}: ok in {record['seconds']} s")
    return record


class _InlineExecutor:
    """``jobs = 1``: run each notebook in the calling thread (Ctrl-C stops it at once)."""

    def __enter__(self) -> _InlineExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(function(*args))
        except Exception as err:
            future.set_exception(err)
        return future


def _chain_lengths(steps: list[NotebookStep], needs: dict[str, set[str]]) -> dict[str, int]:
    """Each step's longest chain of steps that wait on it (itself included)."""
    lengths: dict[str, int] = {}
    for step in reversed(steps):
        waiting = [lengths[s.name] for s in steps if step.name in needs[s.name]]
        lengths[step.name] = 1 + max(waiting, default=0)
    return lengths


THREAD_VARIABLES = ("PRELIB_THREADS", "OMP_NUM_THREADS")
"""Environment variables that size a kernel's thread pools (torch, OpenMP)."""


def _usable_cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def kernel_threads(sharing: int) -> dict[str, str]:
    """:data:`THREAD_VARIABLES` for a kernel that shares the cores with ``sharing − 1`` others
    (the cores split evenly); empty when it runs alone or the user has set them."""
    if sharing <= 1:
        return {}
    per_kernel = str(max(1, _usable_cores() // sharing))
    return {k: per_kernel for k in THREAD_VARIABLES if k not in os.environ}


def _with_environment(manager, environment: dict[str, str]):
    """A kernel manager class that starts its kernel with ``environment`` added to ours."""
    if not environment:
        return manager
    if manager is None:
        from jupyter_client.manager import AsyncKernelManager

        manager = AsyncKernelManager

    class KernelWithEnvironment(manager):
        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = {**os.environ, **kw.get("env", {}), **environment}
            return await super()._async_pre_start_kernel(**kw)

    return KernelWithEnvironment


def run_pipeline(
    profile: str,
    only: list[str] | None = None,
    output_root: str | Path | None = None,
    seed: int = 0,
    device: str = "auto",
    overrides: dict[str, Any] | None = None,
    directory: str | Path | None = None,
    log: Callable[[str], None] = print,
    data_root: str | Path | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Execute the pipeline and return the summary written to ``summary.json``.

    ``jobs`` notebooks run at once, each as soon as the notebooks it needs
    (:attr:`NotebookStep.needs`) have finished; ``None`` takes :func:`default_jobs`. With
    ``only``, notebooks outside the selection count as finished. The summary lists the
    notebooks in run order.

    Raises
    ------
    PipelineError
        Before any work (see :func:`plan_pipeline`), or when a notebook fails; the message shows
        the failing cell and error, and ``summary.json`` records the failure. After a failure no
        further notebook starts; those already running finish.
    """
    directory = Path(directory) if directory else notebooks_dir()
    profile, seed, overrides = resolve_standard_overrides(profile, seed, overrides)
    jobs = default_jobs(profile) if jobs is None else int(jobs)
    if jobs < 1:
        raise PipelineError(f"jobs must be at least 1, got {jobs}")
    planned = plan_pipeline(
        profile, only, output_root, seed, device, overrides, directory, data_root
    )
    root = Path(output_root) if output_root else default_output_root() / profile
    summary: dict[str, Any] = {"profile": profile, "seed": seed, "notebooks": {}}
    # The run's resolved configuration, as the notebooks resolve it (each in its setup call).
    write_json(root / "run_config.json", resolve(profile, seed=seed, data={"seed": seed}).to_dict())
    steps = load_run_order(directory)
    selected = [step.name for step, _ in planned]
    needs = {step.name: step_needs(step, steps) & set(selected) for step, _ in planned}
    chain = _chain_lengths([step for step, _ in planned], needs)
    order = {name: index for index, name in enumerate(selected)}
    pending = sorted(planned, key=lambda item: (-chain[item[0].name], order[item[0].name]))
    records: dict[str, dict[str, Any]] = {}
    failures: list[tuple[str, str]] = []
    started = time.perf_counter()
    manager = ipc_kernel_manager()
    pool = ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else _InlineExecutor()
    with pool:
        running: dict[Any, str] = {}
        while pending or running:
            ready = [item for item in pending if needs[item[0].name] <= set(records)]
            launch = [] if failures else ready[: jobs - len(running)]
            for item in launch:
                step, params = item
                pending.remove(item)
                # the cores are split among the notebooks running from now on: a notebook
                # that starts alone (others waiting for it) gets them all
                sharing = len(running) + len(launch) if jobs > 1 else 1
                kernel = _with_environment(manager, kernel_threads(sharing))
                future = pool.submit(_execute_step, step, params, directory, profile, kernel, log)
                running[future] = step.name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                try:
                    records[name] = future.result()
                except _NotebookFailed as failure:
                    records[name] = failure.record
                    failures.append((name, failure.message))
    summary["notebooks"] = {name: records[name] for name in selected if name in records}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if failures:
        summary["status"] = "failed"
        write_json(root / "summary.json", summary)
        first = min(failures, key=lambda failure: order[failure[0]])
        raise PipelineError(first[1])
    summary["status"] = "ok"
    write_json(root / "summary.json", summary)
    return summary


def curate_figures(
    profile: str,
    output_root: str | Path | None = None,
    figures_dir: str | Path | None = None,
    directory: str | Path | None = None,
) -> list[Path]:
    """Copy the run order's curated figures from a finished run into ``figures/``."""
    check_profile(profile)
    root = Path(output_root) if output_root else default_output_root() / profile
    target = Path(figures_dir) if figures_dir else project_root() / "figures"
    target.mkdir(parents=True, exist_ok=True)
    copied, missing = [], []
    for step in load_run_order(directory):
        for stem in step.figures:
            source = root / step.name / f"{stem}.png"
            if source.is_file():
                copied.append(Path(shutil.copy2(source, target / source.name)))
            else:
                missing.append(str(source))
    if missing:
        raise PipelineError(
            f"figures missing (run the pipeline at {profile!r} first): {', '.join(missing)}"
        )
    return copied
