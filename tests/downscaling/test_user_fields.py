"""User fields: reading any variable/units, selections that fail loudly, the regridder, the CLI."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from prelib.downscaling.regrid import cell_edges, regrid_conservative
from prelib.downscaling.user_data import PairRequest, build_user_pairs, parse_region
from prelib.downscaling.user_fields import FieldSource, rate_factor, read_precip_field


def write_radar(path, values, name="rain", units="mm", step="10min", lat0=40.0, lon0=-90.0):
    """A NetCDF radar file with other names: (valid_time, latitude, longitude), ascending lat."""
    n, ny, nx = values.shape
    dataset = xr.Dataset(
        {
            name: (
                ("valid_time", "latitude", "longitude"),
                values.astype(np.float32),
                {"units": units},
            )
        },
        coords={
            "valid_time": pd.date_range("2024-07-01", periods=n, freq=step),
            "latitude": lat0 + 0.005 + 0.01 * np.arange(ny),
            "longitude": lon0 + 0.005 + 0.01 * np.arange(nx),
        },
    )
    dataset.to_netcdf(path)
    return path


@pytest.fixture
def radar_file(tmp_path, rain_fields):
    values = rain_fields(6, 80, seed=3) / 6.0  # 10-minute accumulations in mm
    return write_radar(tmp_path / "radar_accum.nc", values), values


def test_accumulations_become_rates_with_a_note(radar_file):
    path, values = radar_file
    notes = []
    field = read_precip_field(FieldSource((path,), "rain", None, "10min"), notes=notes)
    assert field.dims == ("time", "y", "x") and field.attrs["units"] == "mm h-1"
    np.testing.assert_allclose(field.values, values * 6.0, rtol=1e-5)
    assert notes and "converted to rates" in notes[0] and "0.166667 h" in notes[0]
    # without a period, the file's 10-minute step is used and said so
    notes = []
    read_precip_field(FieldSource((path,), "rain"), notes=notes)
    assert "the file's time step" in notes[0]


def test_units_refused_or_converted():
    assert rate_factor("kg m-2 s-1", None, None, "f")[0] == 3600.0
    with pytest.raises(ValueError, match="unknown precipitation units 'dBZ'"):
        rate_factor("dBZ", None, None, "radar.nc")
    with pytest.raises(ValueError, match="accumulation; pass its period"):
        rate_factor("mm", None, None, "radar.nc")
    with pytest.raises(ValueError, match="no 'units'"):
        rate_factor(None, None, None, "radar.nc")
    with pytest.raises(ValueError, match="not a duration"):
        rate_factor("mm", "soon", None, "radar.nc")


def test_variable_and_region_errors_name_the_problem(radar_file):
    path, _ = radar_file
    with pytest.raises(ValueError, match=r"no variable 'precip_rate'.*rain"):
        read_precip_field(FieldSource((path,), "precip_rate"))
    with pytest.raises(ValueError, match=r"latitude range \[10, 12\] selects no pixel"):
        read_precip_field(FieldSource((path,), "rain"), (10.0, 12.0), None)
    with pytest.raises(FileNotFoundError, match=r"missing.nc"):
        read_precip_field(FieldSource((path.parent / "missing.nc",)))


def request(path, **times):
    return PairRequest(FieldSource((path,), "rain", "mm", "10min"), times)


def test_splits_by_time_and_block_mean_pairs(radar_file):
    path, _values = radar_file
    splits = build_user_pairs(request(path, train="0:4", test="4:6"), 10, 40, seed=1)
    assert set(splits) == {"train", "test"}
    train = splits["train"]
    assert train.fine.shape[1:] == (40, 40) and train.satellite.shape[1:] == (4, 4)
    # bias none: the input is exactly the block mean of the truth
    blocks = train.fine.reshape(len(train), 4, 10, 4, 10).mean(axis=(2, 4))
    np.testing.assert_allclose(train.satellite, blocks, rtol=1e-5)
    timed = build_user_pairs(
        request(path, train="2024-07-01T00:00/2024-07-01T00:30"), 10, 40, seed=1
    )
    assert len(timed["train"]) == len(splits["train"])  # 4 frames either way


def test_empty_short_and_rain_free_selections_say_which(tmp_path, radar_file):
    path, values = radar_file
    with pytest.raises(ValueError, match=r"--val-times 9:12 .* selects no frame .* it has 6"):
        build_user_pairs(request(path, train="0:4", val="9:12"), 10, 40)
    with pytest.raises(ValueError, match="--test-times 2025-01-01/2025-01-02"):
        build_user_pairs(request(path, train="0:4", test="2025-01-01/2025-01-02"), 10, 40)
    small = PairRequest(
        FieldSource((path,), "rain", "mm", "10min"),
        {"train": "0:4"},
        region=(40.0, 40.3, -90.0, -89.2),
    )
    with pytest.raises(ValueError, match=r"--train-times 0:4 .* region is 30 x 80 pixels, smaller"):
        build_user_pairs(small, 10, 40)
    dry = values.copy()
    dry[4:] = 0.0
    dry_path = write_radar(tmp_path / "dry.nc", dry)
    with pytest.raises(ValueError, match=r"--test-times 4:6 .* rain-free"):
        build_user_pairs(request(dry_path, train="0:4", test="4:6"), 10, 40)
    holes = values.copy()
    holes[:, ::7, ::7] = np.nan
    holes_path = write_radar(tmp_path / "holes.nc", holes)
    with pytest.raises(ValueError, match=r"--train-times 0:2 .* is complete"):
        build_user_pairs(request(holes_path, train="0:2"), 10, 40)
    with pytest.raises(ValueError, match="LAT_MIN"):
        parse_region("40,48")


def test_conservative_regrid_is_exact_and_conserves_area_means():
    rng = np.random.default_rng(0)
    lat = np.linspace(30.05, 31.95, 20)  # 0.1 degree source cells
    lon = np.linspace(-99.95, -98.05, 20)
    field = rng.gamma(0.5, 2.0, size=(20, 20))
    # identity on the same grid
    same = regrid_conservative(field, lat, lon, cell_edges(lat), cell_edges(lon))
    np.testing.assert_allclose(same, field, rtol=1e-12)
    # 2 x 2 aggregation: the area-weighted mean of the four cells (sin-latitude weights)
    target_lat, target_lon = cell_edges(lat)[::2], cell_edges(lon)[::2]
    out = regrid_conservative(field, lat, lon, target_lat, target_lon)
    weights = np.diff(np.sin(np.radians(cell_edges(lat))))
    expected = (field[:2, :2] * weights[:2, None]).sum() / (2 * weights[:2].sum())
    assert out[0, 0] == pytest.approx(expected, rel=1e-12)
    # a target grid offset by a fraction of a cell: area integrals are conserved
    shifted_lat = cell_edges(lat)[2:-2] + 0.03
    shifted_lon = cell_edges(lon)[2:-2] - 0.04
    moved = regrid_conservative(field, lat, lon, shifted_lat, shifted_lon)
    brute = np.zeros_like(moved)
    src_y, src_x = cell_edges(lat), cell_edges(lon)
    for k in range(moved.shape[0]):
        for m in range(moved.shape[1]):
            total = area = 0.0
            for i in range(20):
                dy = max(
                    0,
                    min(np.sin(np.radians(src_y[i + 1])), np.sin(np.radians(shifted_lat[k + 1])))
                    - max(np.sin(np.radians(src_y[i])), np.sin(np.radians(shifted_lat[k]))),
                )
                for j in range(20):
                    dx = max(
                        0, min(src_x[j + 1], shifted_lon[m + 1]) - max(src_x[j], shifted_lon[m])
                    )
                    total += field[i, j] * dy * dx
                    area += dy * dx
            brute[k, m] = total / area
    np.testing.assert_allclose(moved, brute, rtol=1e-10)
    # outside the source, or partly missing: NaN, never 0
    holes = field.copy()
    holes[0, 0] = np.nan
    out = regrid_conservative(holes, lat, lon, target_lat, target_lon)
    assert np.isnan(out[0, 0]) and np.isfinite(out[1:, 1:]).all()


def test_paired_product_is_regridded_onto_the_fine_blocks(tmp_path, radar_file):
    path, _values = radar_file
    # a coarse "satellite" product on an offset 0.1 degree grid, hourly rates in kg m-2 s-1
    lat = 39.95 + 0.1 * np.arange(12)
    lon = -90.05 + 0.1 * np.arange(12)
    coarse = np.full((6, 12, 12), 2.0 / 3600, dtype=np.float32)
    product = xr.Dataset(
        {"precipitation": (("time", "lat", "lon"), coarse, {"units": "kg m-2 s-1"})},
        coords={
            "time": pd.date_range("2024-07-01", periods=6, freq="10min"),
            "lat": lat,
            "lon": lon,
        },
    )
    product.to_netcdf(tmp_path / "imerg_like.nc")
    req = PairRequest(
        FieldSource((path,), "rain", "mm", "10min"),
        {"train": "0:4"},
        bias="paired",
        coarse=FieldSource((tmp_path / "imerg_like.nc",)),
    )
    train = build_user_pairs(req, 10, 40)["train"]
    np.testing.assert_allclose(train.satellite, 2.0, rtol=1e-5)  # constant field stays constant
    with pytest.raises(ValueError, match="needs a coarse product"):
        PairRequest(FieldSource((path,)), {"train": "0:4"}, bias="paired")


def parser():
    from prelib.downscaling.commands import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    return p


@pytest.mark.slow
def test_cli_train_evaluate_apply_on_a_user_file(tmp_path, radar_file, capsys):
    from prelib.downscaling.commands import run

    path, _values = radar_file
    model_dir = tmp_path / "model"
    common = [
        "--profile",
        "tiny",
        "--fine",
        str(path),
        "--var",
        "rain",
        "--units",
        "mm",
        "--accumulation",
        "10min",
        "--train-times",
        "0:3",
        "--val-times",
        "3:4",
        "--test-times",
        "4:6",
        "--factor",
        "10",
        "--bias",
        "none",
        "--methods",
        "bicubic,maunet,precipdiff",
        "--output",
        str(model_dir),
        "--members",
        "2",
    ]
    assert run(parser().parse_args(["evaluate", *common])) == 0
    printed = capsys.readouterr().out
    assert "converted to rates" in printed and "| precipdiff |" in printed
    assert "| rainfarm |" not in printed  # not selected
    table = pd.read_csv(model_dir / "evaluation.csv", index_col=0)
    assert {"bicubic", "maunet", "precipdiff"} <= set(table.index)
    assert np.isfinite(table.loc["precipdiff", ["spread_skill", "member_csi@0.1"]]).all()
    # apply to a coarse field with yet other names and rate units
    coarse = xr.Dataset(
        {
            "pr": (
                ("time", "lat", "lon"),
                np.full((2, 4, 5), 1.5 / 3600, np.float32),
                {"units": "kg m-2 s-1"},
            )
        },
        coords={
            "time": pd.date_range("2024-07-02", periods=2, freq="1h"),
            "lat": 40.05 + 0.1 * np.arange(4),
            "lon": -89.95 + 0.1 * np.arange(5),
        },
    )
    coarse.to_netcdf(tmp_path / "coarse.nc")
    out = tmp_path / "fine.nc"
    args = [
        "apply",
        "--model",
        str(model_dir),
        "--input",
        str(tmp_path / "coarse.nc"),
        "--output",
        str(out),
    ]
    assert run(parser().parse_args(args)) == 0
    result = xr.open_dataset(out)
    assert result["precip"].shape == (2, 40, 50) and result.attrs["downscaling_method"] == "maunet"
    # the conservative MAUNet (bias none) keeps every block's mean rate
    blocks = result["precip"].values.reshape(2, 4, 10, 5, 10).mean(axis=(2, 4))
    np.testing.assert_allclose(blocks, 1.5, rtol=1e-3)
    result.close()
    assert run(parser().parse_args(args)) == 0  # its own earlier output is replaced
    foreign = tmp_path / "mine.nc"
    foreign.write_text("a user's file")
    args[args.index(str(out))] = str(foreign)
    with pytest.raises(FileExistsError, match="--overwrite"):
        run(parser().parse_args(args))
    assert foreign.read_text() == "a user's file"  # kept


def test_cli_refuses_missing_selections(radar_file):
    from prelib.downscaling.commands import run

    path, _ = radar_file
    with pytest.raises(ValueError, match="needs --train-times"):
        run(parser().parse_args(["train", "--profile", "tiny", "--fine", str(path)]))
    with pytest.raises(ValueError, match="unknown method"):
        run(
            parser().parse_args(
                [
                    "train",
                    "--profile",
                    "tiny",
                    "--fine",
                    str(path),
                    "--train-times",
                    "0:3",
                    "--methods",
                    "unet",
                ]
            )
        )


def test_real_radar_block_mean_pairs_and_a_wrong_selection(shared_data):
    """The MRMS sample through the user-field path: exact block means; bad frames named."""
    from prelib.downscaling.data import MRMS_FILE

    path = shared_data / MRMS_FILE
    if not path.is_file():
        pytest.skip("MRMS sample absent")
    req = PairRequest(
        FieldSource((path,)), {"train": "0:2", "test": "30:31"}, (44.0, 46.0, -86.0, -84.0)
    )
    splits = build_user_pairs(req, 10, 40, max_patches={"train": 6, "test": 3})
    train = splits["train"]
    assert 0 < len(train) <= 6 and np.isfinite(train.fine).all()
    blocks = train.fine.reshape(len(train), 4, 10, 4, 10).mean(axis=(2, 4))
    np.testing.assert_allclose(train.satellite, blocks, rtol=1e-5, atol=1e-6)
    hourly = PairRequest(
        FieldSource((path,)), {"train": "28:36", "test": "36:40"}, (44.0, 45.0, -86.0, -85.0)
    )
    with pytest.raises(ValueError, match=r"--test-times 36:40 .* selects no frame .* it has 36"):
        build_user_pairs(hourly, 10, 40)
