"""``--cluster`` of ``prelib simulate build``, ``prelib infer --times`` and ``prelib evaluate``,
each run against a dask.distributed ``LocalCluster`` (one in-process worker, reached by its TCP
address like any external scheduler)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from prelib import conventions as cv
from prelib.cli import main

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """A running scheduler with one single-threaded in-process worker; yields its address and
    a client that counts the tasks it ran."""
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        dashboard_address=None,
    ) as local:
        with distributed.Client(local.scheduler_address, set_as_default=False) as client:
            yield local.scheduler_address, client


def _tasks_run(client, prefix: str) -> int:
    """Tasks with key ``prefix…`` the scheduler has seen (its task-stream transitions)."""

    def count(dask_scheduler, prefix=prefix):
        return sum(
            1
            for key, *_ in dask_scheduler.transition_log
            if isinstance(key, str) and key.startswith(prefix)
        )

    return client.run_on_scheduler(count)


def test_simulate_build_on_a_cluster_matches_the_local_build(cluster, tmp_path):
    address, client = cluster
    common = ["simulate", "build", "--kind", "fulldisc", "--split", "val", "--n-samples", "3"]
    on_cluster, local = tmp_path / "cluster.zarr", tmp_path / "local.zarr"
    before = _tasks_run(client, "prelib-sample-")
    argv = [*common, "--out", str(on_cluster), "--cluster", address, "--no-progress"]
    assert main(argv) == 0
    assert _tasks_run(client, "prelib-sample-") > before  # samples ran on the cluster
    assert main([*common, "--out", str(local), "--no-progress"]) == 0
    with xr.open_zarr(on_cluster) as a, xr.open_zarr(local) as b:
        assert a.sizes["sample"] == 3
        xr.testing.assert_identical(a.load(), b.load())


def test_infer_times_on_a_cluster_writes_one_file_per_time(cluster, tmp_path, capsys):
    address, client = cluster
    times = ["2023-07-01T00:00", "2023-07-01T06:00"]
    argv = ["infer", "--region", "25,27,110,112", "--times", *times, "--baseline", "gpi"]
    before = _tasks_run(client, "prelib-infer-")
    assert main([*argv, "--output", str(tmp_path), "--cluster", address]) == 0
    assert _tasks_run(client, "prelib-infer-") > before
    files = sorted(tmp_path.glob("*.nc"))
    assert [f.name for f in files] == [
        "region_25_27_110_112_gpi_2023-07-01T00-00.nc",
        "region_25_27_110_112_gpi_2023-07-01T06-00.nc",
    ]
    fields = []
    for path, time in zip(files, times, strict=True):
        with xr.open_dataset(path) as ds:
            assert ds[cv.VAR_TIME].values.ravel()[0] == np.datetime64(time)
            fields.append(ds[cv.VAR_PRECIP].values)
    assert not np.array_equal(fields[0], fields[1], equal_nan=True)  # two different scenes
    assert capsys.readouterr().out.count("wrote ") == 2  # printed here, not on the worker


def test_infer_times_rejects_a_single_time_mix(tmp_path, capsys):
    argv = ["infer", "--region", "25,27,110,112", "--times", "2023-07-01T00", "--baseline", "gpi"]
    assert main([*argv, "--time", "2023-07-01T06"]) == 2
    assert "--times applies to --region without --time" in capsys.readouterr().err
    assert main(["infer", "--case", "frontal", "--baseline", "gpi", "--cluster", "local"]) == 2
    assert "--cluster distributes --times" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_seeds_on_a_cluster(cluster, tmp_path, capsys):
    address, client = cluster
    argv = ["evaluate", "--profile", "tiny", "--tables", "5", "--rows", "gpi", "ae"]
    argv += ["--seeds", "0", "1", "--data", "simulated", "--n-train", "2", "--n-val", "1"]
    argv += ["--n-test", "2", "--out", str(tmp_path), "--no-progress"]
    before = _tasks_run(client, "prelib-evaluate-")
    assert main([*argv, "--cluster", address]) == 0
    assert _tasks_run(client, "prelib-evaluate-") > before
    for seed in (0, 1):  # each seed's rows were scored (and cached) by its task
        assert (tmp_path / "runs" / f"seed-{seed}" / "scores" / "5" / "gpi.json").is_file()
    printed = capsys.readouterr().out
    assert printed.count("Table 5") == 1 and "| GPI |" in printed


@pytest.mark.slow
def test_cluster_local_starts_and_closes_its_own_cluster(tmp_path, capsys):
    argv = ["infer", "--region", "25,27,110,112", "--times", "2023-07-01T00", "2023-07-01T03"]
    argv += ["--baseline", "ae", "--output", str(tmp_path), "--cluster", "local"]
    assert main(argv) == 0
    assert len(list(tmp_path.glob("*_ae_*.nc"))) == 2
