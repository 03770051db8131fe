"""Where the builder's units run: scheduler selection, the distributed LocalCluster (units in
worker processes, errors raised, cluster closed, finished units kept and skipped on a rerun),
and a wrong cluster address failing clearly before any work. Loopback only."""

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
        assert cluster.status.name == "running"  # not ours to close
    record = json.loads((tmp_path / "x.h5.json").read_text())
    assert record == {
        "unit": "x.h5",
        "n_samples": 0,
        "inputs": ["used.h5"],
        "input_stamps": {"used.h5": None},
        "rejections": [{"unit": "x.h5", "reason": "dry"}],
    }
