"""A satpy Scene as the inference engine's input: ``satpy_source`` and ``--satpy-reader``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from prelib.cli import main
from prelib.inference.sources import AgriL1Source, open_source, satpy_source
from prelib.writers.agri import write_agri_l1

satpy = pytest.importorskip("satpy")

START = np.datetime64("2021-07-20T06:00:00")


@pytest.fixture(scope="module")
def agri_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    bt = {f"C{i:02d}": rng.uniform(200.0, 295.0, (24, 30)).astype(np.float32) for i in range(7, 15)}
    bt["C12"][:6, :9] = 215.0  # a cold cloud, so the GPI baseline rains somewhere
    bt["C13"][2, 2] = np.nan
    return write_agri_l1(
        tmp_path_factory.mktemp("agri"), bt, START, begin_line=600, begin_column=1800
    )


def test_satpy_source_reads_what_the_file_source_reads(agri_file):
    scene = satpy.Scene([str(agri_file)], reader="agri_fy4a_l1")
    scene.load([f"C{i:02d}" for i in range(7, 15)])
    theirs, ours = satpy_source(scene), AgriL1Source(agri_file)
    assert theirs.shape == ours.shape and theirs.time == ours.time
    height = ours.shape[0]
    np.testing.assert_allclose(theirs.read(0, height), ours.read(0, height), equal_nan=True)
    np.testing.assert_allclose(theirs.fill_values(), ours.fill_values(), atol=1e-4)
    for a, b in zip(theirs.latlon(3, 9), ours.latlon(3, 9)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert theirs.name == "FY4A_satpy_20210720T0600"


def test_infer_through_satpy_reader_equals_prelib_reader(agri_file, tmp_path):
    outputs = {}
    for label, extra in (("prelib", []), ("satpy", ["--satpy-reader", "agri_fy4a_l1"])):
        out = tmp_path / f"{label}.nc"
        argv = ["infer", "--input", str(agri_file), "--baseline", "gpi", "--output", str(out)]
        assert main(argv + extra) == 0
        with xr.open_dataset(out) as ds:
            outputs[label] = ds["precip"].values
    np.testing.assert_array_equal(outputs["satpy"], outputs["prelib"])
    assert np.nanmax(outputs["satpy"]) > 0 and np.isnan(outputs["satpy"]).sum() == 1


def test_satpy_reader_needs_an_input_file_it_can_read(agri_file, capsys):
    argv = ["infer", "--case", "frontal", "--satpy-reader", "agri_fy4a_l1", "--baseline", "gpi"]
    assert main(argv) != 0
    assert "--satpy-reader reads an --input file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="agri_fy4b_l1 reader cannot read it"):
        open_source(agri_file, satpy_reader="agri_fy4b_l1")
    with pytest.raises(ValueError, match="not an AGRI L1 reader"):
        open_source(agri_file, satpy_reader="seviri_l1b_hrit")
