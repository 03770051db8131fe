"""Where the builders' work runs: scheduler selection, the distributed LocalCluster (units in
worker processes, errors raised, cluster closed, finished units kept and skipped on a rerun),
a wrong cluster address failing clearly before any work, and the one progress bar of both
builders (units and store samples). Loopback only."""

from __future__ import annotations

import json
import os
import re
import socket

import pytest

from prelib.data.build import execution as unit_execution
from prelib.data.build.execution import UnitRunner, resolve_scheduler


@pytest.mark.parametrize(
    ("scheduler", "workers", "cluster", "expected"),
    [
        (None, 1, None, "synchronous"),
        (None, 2, None, "distributed"),
        (None, 1, "tcp://127.0.0.1:8786", "distributed"),
        ("distributed", 1, None, "distributed"),
        ("processes", 4, None, "processes"),
        ("threads", 2, None, "threads"),
    ],
)
def test_default_scheduler_is_distributed_for_several_workers(
    scheduler, workers, cluster, expected
):
    assert resolve_scheduler(scheduler, workers, cluster) == expected


@pytest.mark.parametrize(
    ("scheduler", "workers", "cluster", "message"),
    [
        ("spark", 2, None, "scheduler must be one of"),
        (None, 0, None, "workers must be a positive integer, got 0"),
        (None, True, None, "workers must be a positive integer"),
        ("threads", 2, "tcp://127.0.0.1:8786", "needs scheduler='distributed'"),
        (None, 2, "  ", "cluster must be a scheduler address"),
    ],
)
def test_bad_execution_options_are_named(scheduler, workers, cluster, message):
    with pytest.raises(ValueError, match=message):
        UnitRunner(scheduler, workers, cluster)


def _unused_loopback_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def test_unreachable_cluster_fails_on_entry_naming_the_address(monkeypatch):
    monkeypatch.setattr(unit_execution, "CONNECT_TIMEOUT_S", 0.5)
    address = _unused_loopback_address()
    entered = False
    with pytest.raises(
        ValueError, match=re.escape(f"cannot connect to the dask cluster at '{address}'")
    ):
        with UnitRunner(None, 2, address):
            entered = True
    assert not entered


def test_malformed_cluster_address_is_named():
    with pytest.raises(ValueError, match=r"'localhost'.*missing port"):
        with UnitRunner(None, 1, "localhost"):
            pass


def test_local_cluster_runs_units_in_workers_and_closes_on_error(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()

    # local functions travel to the workers by value (cloudpickle)
    def report_process():
        return [], [f"pid {os.getpid()}"], []

    def fail():
        raise ArithmeticError("unit failed on purpose")

    units = [("a.h5", report_process, ()), ("b.h5", report_process, ())]
    with pytest.raises(ArithmeticError, match="on purpose"):
        with UnitRunner(None, 2) as runner:
            cluster = runner.client.cluster
            assert len(cluster.workers) == 2
            assert runner.run(units, parts, progress=False) == 2
            stamp = (parts / "a.h5.json").stat().st_mtime_ns
            runner.run([*units, ("c.h5", fail, ())], parts, progress=False)
    assert runner.client is None and cluster.status.name == "closed"
    pids = {json.loads((parts / f"{n}.json").read_text())["inputs"][0] for n in ("a.h5", "b.h5")}
    assert f"pid {os.getpid()}" not in pids  # the units ran in the worker processes
    assert (parts / "a.h5.json").stat().st_mtime_ns == stamp  # finished units were skipped
    assert not (parts / "c.h5.json").exists()


def test_running_cluster_by_address_is_used_and_left_running(tmp_path):
    from distributed import LocalCluster

    def one_patchless_unit():
        return [], ["used.h5"], [{"unit": "x.h5", "reason": "dry"}]

    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        with UnitRunner(None, 1, address) as runner:
            assert runner.scheduler == "distributed" and runner.client.scheduler.address == address
            assert runner.run([("x.h5", one_patchless_unit, ())], tmp_path, progress=False) == 1
            bar = _Counter()  # map: results in order, one bar step per finished item
            assert runner.map(_square, [3, 1, 2], name="sample", bar=bar) == [9, 1, 4]
            assert bar.n == 3
            with pytest.raises(ZeroDivisionError):
                runner.map(_inverse, [1, 0, 2])
        assert cluster.status.name == "running"  # not ours to close
    record = json.loads((tmp_path / "x.h5.json").read_text())
    assert record == {
        "unit": "x.h5",
        "n_samples": 0,
        "inputs": ["used.h5"],
        "input_stamps": {"used.h5": None},
        "rejections": [{"unit": "x.h5", "reason": "dry"}],
    }


class _Counter:
    """Stands in for a tqdm bar: counts ``update`` steps."""

    def __init__(self) -> None:
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n


def _square(x: int) -> int:
    return x * x


def _inverse(x: int) -> float:
    return 1 / x


def _record_unit(name: str):
    return [], [name], []


@pytest.mark.parametrize(
    ("scheduler", "fork"),
    [("synchronous", False), ("threads", False), ("processes", False), ("processes", True)],
)
def test_map_keeps_the_order_and_advances_one_bar_on_every_local_scheduler(scheduler, fork):
    bar = _Counter()
    with UnitRunner(scheduler, 2) as runner:
        got = runner.map(_square, range(5), name="sample", bar=bar, fork=fork)
        assert got == [0, 1, 4, 9, 16]
        assert runner.map(_square, [], bar=bar) == []
    assert bar.n == 5


def test_units_on_a_process_pool_advance_the_same_bar(tmp_path):
    units = [(f"u{i}.h5", _record_unit, (f"u{i}.h5",)) for i in range(3)]
    with UnitRunner("processes", 2) as runner:
        assert runner.run(units, tmp_path, progress=False) == 3
        assert runner.run(units, tmp_path, progress=False) == 0  # all recorded: skipped
    recorded = sorted(p.name for p in tmp_path.glob("*.json"))
    assert recorded == ["u0.h5.json", "u1.h5.json", "u2.h5.json"]


def test_the_progress_callback_counts_only_the_tasks_of_its_batch():
    import dask

    bar = _Counter()
    ours = [dask.delayed(_square)(i, dask_key_name=f"prelib-sample-ab12-{i}") for i in range(3)]
    other = [dask.delayed(_square)(i, dask_key_name=f"prelib-sample-cd34-{i}") for i in range(2)]
    with unit_execution.progress_callback(bar, "prelib-sample-ab12-"):
        dask.compute(*ours, *other, scheduler="synchronous")
    assert bar.n == 3
