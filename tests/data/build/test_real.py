"""The real-data benchmark builders end to end on raw files written in the real layouts:
schema, values, the 10-minute AGRI tolerance (9 vs 11 min), swaths missing the region,
resume after an interruption without duplicates, and the Full-IPR tiling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from prelib.conventions import AGRI_IR_CHANNELS, GMI_CHANNELS
from prelib.data.build import real as benchmark_builder
from prelib.data.build.real import build_fulldisc_benchmark, build_swath_benchmark
from prelib.data.schema import schema_variables
from prelib.data.store import open_benchmark
from prelib.writers.scenario import rain_rate, write_label_hour, write_overpass
from prelib.writers.world_files import write_world_overpass

MINUTE = np.timedelta64(1, "m")
CASES = {  # granule: (first scan, centre, AGRI offset from the patch's middle scan)
    1: ("2021-07-20T06:04:00", (30.0, 110.0), 9 * MINUTE),
    2: ("2021-07-20T09:04:00", (30.0, 110.0), 11 * MINUTE),
    3: ("2021-07-20T12:04:00", (-40.0, 110.0), -4 * MINUTE),
}
WORLD = {
    "granule": 4,
    "label_time": np.datetime64("2021-07-20T16"),
    "seed": 3,
    "centre": (30.0, 112.0),
    "regime": "convective",
    "agri_offset": -9 * MINUTE,
}
"""Granule 4 carries the synthetic world's fields (prelib.writers.world_files)."""


@pytest.fixture(scope="module")
def overpasses(tmp_path_factory):
    root = tmp_path_factory.mktemp("real_inputs")
    written = {
        # the southern swath is rejected before any AGRI/CLDAS lookup: a short one is enough
        g: write_overpass(
            root,
            np.datetime64(t),
            centre=c,
            granule=g,
            agri_offset=off,
            n_scans=20 if c[0] < 0 else 260,
        )
        for g, (t, c, off) in CASES.items()
    }
    written[4] = write_world_overpass(root, **WORLD)
    return root, written


@pytest.fixture(scope="module")
def swath_build(overpasses, tmp_path_factory):
    root, _ = overpasses
    out = tmp_path_factory.mktemp("swath_out") / "swath.zarr"
    result = build_swath_benchmark(root / "agri", root / "gpm", root / "cldas", out, progress=False)
    return result


def test_swath_store_has_exactly_the_synthetic_schema(swath_build):
    ds = open_benchmark(swath_build.store, "swath")
    assert ds.sizes["sample"] == 2 and swath_build.n_samples == 2
    for name, spec in schema_variables("swath").items():
        assert ds[name].dims == ("sample", *spec.dims) and ds[name].attrs["units"] == spec.units
    assert list(ds["ir_channel"].values) == list(AGRI_IR_CHANNELS)
    assert list(ds["pmw_channel"].values) == list(GMI_CHANNELS)
    assert ds.attrs["source"] == "real"


def test_swath_values_come_from_the_right_files(swath_build, overpasses):
    _, written = overpasses
    ds = open_benchmark(swath_build.store, "swath").load()
    first = ds.isel(sample=0)
    case = written[1]
    lat, lon = case.lat[:256], case.lon[:256]
    np.testing.assert_array_equal(first["lat"].values, lat.astype(np.float32))
    rain = rain_rate(lat, lon, (30.0, 110.0))
    # GMI footprints coincide with the DPR pixels here: channel 0 is 260 - 4 * rain exactly
    np.testing.assert_allclose(first["pmw"].values[0], 260.0 - 4.0 * rain, atol=1e-3)
    # the DPR Ku profile: 25 + 2 * rain dBZ in bins 140..167 where it rains, NaN (no echo) elsewhere
    wet = rain >= 0.1
    np.testing.assert_allclose(first["pr"].values[150][wet], (25 + 2 * rain[wet]), atol=1e-3)
    assert np.isnan(first["pr"].values[100]).all() and np.isnan(first["pr"].values[150][~wet]).all()
    # AGRI (nearest 4 km pixel) and CLDAS (nearest 0.0625° cell): close to the analytic field
    ir108 = first["ir"].sel(ir_channel="C12").values
    assert np.abs(ir108 - (290 - 8 * rain - 15)).max() < 1.5
    assert np.abs(first["precip"].values - rain).max() < 0.6
    # the label hour contains the overpass; the AGRI offset is the +9 min of the case
    assert first["time"].values == np.datetime64("2021-07-20T07:00", "ns")
    assert float(first["agri_offset_s"]) == pytest.approx(540.0, abs=1.0)  # AGRI start in whole s
    assert float(ds.isel(sample=1)["agri_offset_s"]) == pytest.approx(-540.0, abs=1.0)


def test_world_overpass_carries_the_synthetic_scene(swath_build, overpasses):
    world = overpasses[1][4]
    sample = open_benchmark(swath_build.store, "swath").isel(sample=1).load()
    lat = world.scene["lat"].values[:, 0]
    lon = world.scene["lon"].values[0, :]
    i = np.rint((world.lat[:256] - lat[0]) / (lat[1] - lat[0])).astype(int)
    j = np.rint((world.lon[:256] - lon[0]) / (lon[1] - lon[0])).astype(int)
    # DPR and GMI were sampled from the scene at exactly these pixels: identical values
    np.testing.assert_allclose(sample["pmw"].values, world.scene["pmw"].values[:, i, j], atol=2e-4)
    above_clutter = slice(0, 168)  # the writer's clutter-free bottom is bin 168 (1-based)
    np.testing.assert_allclose(
        sample["pr"].values[above_clutter],
        world.scene["pr"].values[above_clutter][:, i, j],
        atol=2e-4,
    )
    # AGRI and CLDAS went through their own grids (4 km, 0.0625°): close, not identical
    truth_ir = world.scene["ir"].sel(ir_channel="C12").values[i, j]
    assert np.median(np.abs(sample["ir"].sel(ir_channel="C12").values - truth_ir)) < 1.0
    truth_rain = world.scene["precip"].values[i, j]
    assert np.median(np.abs(sample["precip"].values - truth_rain)) < 0.2
    assert 180 < float(sample["ir"].min()) and float(sample["ir"].max()) < 330


def test_manifest_lists_inputs_and_every_rejection(swath_build, overpasses):
    _, written = overpasses
    manifest = json.loads(swath_build.manifest.read_text())
    used = set(manifest["inputs_used"])
    assert {str(written[1].dpr), str(written[1].gmi), str(written[1].agri)} <= used
    assert str(written[2].agri) not in used
    reasons = {r["unit"].split("[")[0]: r for r in manifest["rejections"]}
    g2 = reasons[written[2].dpr.name]
    assert g2["reason"] == "no AGRI scan within 10 min"
    assert float(g2["nearest_offset"].rstrip(" s")) == pytest.approx(660.0, abs=1.0)
    assert reasons[written[3].dpr.name]["reason"].startswith("swath misses the region")
    # the remainder of each 260-scan swath is too short for a second patch: not a rejection
    assert len(manifest["rejections"]) == 2 == swath_build.n_rejections
    assert [s["unit"] for s in manifest["samples"]] == [written[1].dpr.name, written[4].dpr.name]


def test_resume_after_interruption_without_duplicates(overpasses, tmp_path, monkeypatch):
    root, written = overpasses
    out = tmp_path / "resumed.zarr"
    real = benchmark_builder.process_swath_granule

    def interrupted(dpr, *args):
        if dpr.path == written[4].dpr:
            raise KeyboardInterrupt("killed while processing granule 4")
        return real(dpr, *args)

    monkeypatch.setattr(benchmark_builder, "process_swath_granule", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_swath_benchmark(root / "agri", root / "gpm", root / "cldas", out, progress=False)
    assert not out.exists()  # never a partial store
    parts = out.with_name(out.name + ".parts")
    done = sorted(p.name for p in parts.glob("*.json"))
    assert len(done) == 3
    (first_record,) = parts.glob(f"{written[1].dpr.name}-*.json")
    stamp = first_record.stat().st_mtime_ns

    monkeypatch.setattr(benchmark_builder, "process_swath_granule", real)
    result = build_swath_benchmark(root / "agri", root / "gpm", root / "cldas", out, progress=False)
    assert first_record.stat().st_mtime_ns == stamp  # finished granules are skipped
    ds = open_benchmark(result.store, "swath")
    granules = list(ds["granule"].values)
    assert granules == ["000001:0", "000004:0"] and len(set(granules)) == len(granules)


def _store_files(store):
    return {
        str(f.relative_to(store)): f.read_bytes() for f in sorted(store.rglob("*")) if f.is_file()
    }


def test_distributed_build_writes_the_same_store_as_the_serial_one(
    overpasses, swath_build, tmp_path, monkeypatch
):
    import distributed

    started = []

    class RecordedCluster(distributed.LocalCluster):
        def __init__(self, **kwargs):
            started.append(kwargs)
            super().__init__(**kwargs)
            started.append(self)

    monkeypatch.setattr(distributed, "LocalCluster", RecordedCluster)
    root, _ = overpasses
    out = tmp_path / swath_build.store.name  # same name: the manifest's name is an attribute
    result = build_swath_benchmark(
        root / "agri", root / "gpm", root / "cldas", out, workers=2, progress=False
    )
    kwargs, cluster = started
    assert kwargs == {
        "n_workers": 2,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }
    assert cluster.status.name == "closed"
    serial, parallel = _store_files(swath_build.store), _store_files(result.store)
    assert len(serial) > 10 and serial.keys() == parallel.keys()
    assert [name for name in serial if serial[name] != parallel[name]] == []
    manifests = [json.loads(r.manifest.read_text()) for r in (swath_build, result)]
    for manifest in manifests:
        del manifest["store"]
    assert manifests[0] == manifests[1]


def test_cli_bad_cluster_address_fails_before_any_work(overpasses, tmp_path, capsys, monkeypatch):
    import socket

    from prelib.cli import main
    from prelib.data.build import execution as unit_execution

    monkeypatch.setattr(unit_execution, "CONNECT_TIMEOUT_S", 0.5)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    root, _ = overpasses
    out = tmp_path / "never.zarr"
    args = [
        "build",
        "swath",
        "--agri-dir",
        str(root / "agri"),
        "--gpm-dir",
        str(root / "gpm"),
        "--cldas-dir",
        str(root / "cldas"),
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main([*args, "--cluster", address]) == 2
    assert f"cannot connect to the dask cluster at '{address}'" in capsys.readouterr().err
    assert main([*args, "--cluster", address, "--scheduler", "processes"]) == 2
    assert "needs scheduler='distributed'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no parts, no manifest, no store


def test_cli_with_no_kept_patch_writes_manifest_but_no_store(overpasses, tmp_path, capsys):
    from prelib.cli import main

    root, _ = overpasses
    out = tmp_path / "none.zarr"
    args = [
        "build",
        "swath",
        "--agri-dir",
        str(root / "agri"),
        "--gpm-dir",
        str(root / "gpm"),
        "--cldas-dir",
        str(root / "cldas"),
        "--out",
        str(out),
        "--min-wet-fraction",
        "0.99",
        "--no-progress",
    ]
    assert main(args) == 1
    assert "0 samples, 4 rejections" in capsys.readouterr().out
    assert not out.exists()
    manifest = json.loads(out.with_name("none.zarr.manifest.json").read_text())
    reasons = [r["reason"] for r in manifest["rejections"]]
    assert sum(r.startswith("dry: wet fraction") for r in reasons) == 2


def test_missing_inputs_raise(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        build_swath_benchmark(tmp_path / "a", tmp_path / "g", tmp_path / "c", tmp_path / "o.zarr")
    (tmp_path / "g").mkdir()
    with pytest.raises(ValueError, match="no 2A-DPR granules"):
        build_swath_benchmark(tmp_path / "g", tmp_path / "g", tmp_path / "g", tmp_path / "o.zarr")


def test_fulldisc_tiles_one_hour(tmp_path):
    # the 256 x 256 tile (y 512, x 1024) of the 0.04° domain grid: 20.48–30.72N, 100.96–111.2E
    box = (20.48, 30.72, 100.96, 111.2)
    write_label_hour(tmp_path / "in", np.datetime64("2022-07-20T07"), box)
    write_label_hour(
        tmp_path / "in", np.datetime64("2022-07-20T09"), box, agri_offset=np.timedelta64(11, "m")
    )
    result = build_fulldisc_benchmark(
        tmp_path / "in" / "agri",
        tmp_path / "in" / "cldas",
        tmp_path / "fd.zarr",
        progress=False,
        workers=2,
        scheduler="threads",
    )
    ds = open_benchmark(result.store, "fulldisc").load()
    assert ds.sizes["sample"] == 1
    assert float(ds["lat"].min()) == pytest.approx(20.50) and float(
        ds["lat"].max()
    ) == pytest.approx(30.70)
    assert np.all(np.diff(ds["lat"].values[0, :, 0]) > 0)  # y runs north, as the synthetic grid
    rain = rain_rate(ds["lat"].values[0], ds["lon"].values[0], (25.6, 106.08))
    assert np.abs(ds["precip"].values[0] - rain).max() < 0.6
    assert ds["time"].values[0] == np.datetime64("2022-07-20T07", "ns")
    manifest = json.loads(result.manifest.read_text())
    late = [r for r in manifest["rejections"] if "2022072009" in r["unit"]]
    assert late[0]["reason"] == "no AGRI scan within 10 min of the label hour"
