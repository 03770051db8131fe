"""catalogs/real.yaml loads with intake 2; every entry opens files written in the real layouts."""

from __future__ import annotations

import numpy as np
import pytest

from prelib.paths import catalogs_dir
from prelib.writers.agri import write_agri_l1
from prelib.writers.gpm import write_cmb_2b, write_dpr_2a, write_gmi_1c, write_imerg
from prelib.writers.grids import write_chrs_hourly, write_cldas

intake = pytest.importorskip("intake")

START = np.datetime64("2021-07-20T06:00")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    bt = {"C12": np.full((4, 5), 250.0, np.float32)}
    for k in range(2):  # two scans: concatenated along time
        write_agri_l1(
            root / "agri",
            bt,
            START + np.timedelta64(15 * k, "m"),
            begin_line=600,
            begin_column=1400,
        )
    write_agri_l1(
        root / "agri",
        {"C13": np.full((4, 5), 250.0)},
        START,
        satellite="FY4B",
        begin_line=600,
        begin_column=1400,
    )
    lat = 30 + 0.05 * np.arange(6)[:, None] + 0 * np.arange(5)[None, :]
    lon = 110 + 0.05 * np.arange(5)[None, :] + 0 * lat
    times = START + np.arange(6) * np.timedelta64(700, "ms")
    write_gmi_1c(root / "gpm", lat, lon, np.full((6, 5, 13), 250.0), times)
    write_dpr_2a(root / "gpm", lat, lon, np.full((6, 5, 176), 30.0), times)
    write_cmb_2b(root / "gpm", lat, lon, np.ones((6, 5)), times)
    for k in range(2):
        write_imerg(
            root / "imerg",
            np.arange(3) + 20.05,
            np.arange(4) + 110.05,
            np.ones((3, 4)),
            START + np.timedelta64(30 * k, "m"),
        )
    write_cldas(
        root / "cldas",
        30.03125 + 0.0625 * np.arange(3),
        110.03125 + 0.0625 * np.arange(4),
        np.ones((3, 4)),
        START,
    )
    rain = np.zeros((3000, 9000), np.float32)
    write_chrs_hourly(root / "chrs", rain, START, "persiann_ccs")
    write_chrs_hourly(root / "chrs", rain, START, "pdir_now")
    return root


EXPECTED = {
    "fy4a_agri_l1": ("agri_dir", "agri", "ir", {"time": 2, "ir_channel": 8}),
    "fy4b_agri_l1": ("agri_dir", "agri", "ir", {"ir_channel": 8}),
    "gpm_gmi_1c": ("gpm_dir", "gpm", "pmw", {"scan": 6, "pmw_channel": 13}),
    "gpm_dpr_2a": ("gpm_dir", "gpm", "reflectivity", {"bin": 176}),
    "gpm_cmb_2b": ("gpm_dir", "gpm", "precip_surface", {"ray": 5}),
    "imerg_half_hourly": ("imerg_dir", "imerg", "precip", {"time": 2, "lat": 3}),
    "cldas_hourly_precip": ("cldas_dir", "cldas", "precip", {"lon": 4}),
    "persiann_ccs_hourly": ("chrs_dir", "chrs", "precip", {"lat": 3000}),
    "pdir_now_hourly": ("chrs_dir", "chrs", "precip", {"lon": 9000}),
}


def test_every_entry_has_description_licence_and_citation():
    cat = intake.open_catalog(str(catalogs_dir() / "real.yaml"))
    assert sorted(cat.entries) == sorted(EXPECTED)
    for name in cat.entries:
        entry = cat[name]
        assert entry.metadata["description"]
        assert {"licence", "citation", "provider", "parameters"} <= set(entry.metadata)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entry_opens(archive, name):
    cat = intake.open_catalog(str(catalogs_dir() / "real.yaml"))
    parameter, folder, variable, sizes = EXPECTED[name]
    ds = cat[name](**{parameter: str(archive / folder)}).read()
    assert variable in ds
    for dim, size in sizes.items():
        assert ds.sizes[dim] == size


def test_directory_from_environment_variable(archive, monkeypatch):
    monkeypatch.setenv("PRELIB_CLDAS_DIR", str(archive / "cldas"))
    cat = intake.open_catalog(str(catalogs_dir() / "real.yaml"))
    assert float(cat.cldas_hourly_precip.read()["precip"].mean()) == 1.0


def test_files_on_different_grids_are_not_combined(tmp_path):
    from prelib.readers import ProductError
    from prelib.readers.intake_source import ProductSource

    lon = 110.03125 + 0.0625 * np.arange(4)
    write_cldas(tmp_path, 30.03125 + 0.0625 * np.arange(3), lon, np.ones((3, 4)), START)
    write_cldas(
        tmp_path,
        40.03125 + 0.0625 * np.arange(3),
        lon,
        np.ones((3, 4)),
        START + np.timedelta64(1, "h"),
    )
    source = ProductSource(str(tmp_path / "Z_NAFP_*.nc"), "cldas")
    assert len(source.files()) == 2
    with pytest.raises(ProductError, match="cannot be combined along 'time'"):
        source.read()
    with pytest.raises(ProductError, match="no cldas files match"):
        ProductSource(str(tmp_path / "nothing*.nc"), "cldas").read()


def test_catalog_is_intake_2_and_opens_without_warnings(recwarn):
    text = (catalogs_dir() / "real.yaml").read_text()
    assert "\nversion: 2\n" in text and "sources:" not in text
    cat = intake.open_catalog(str(catalogs_dir() / "real.yaml"))
    assert cat.fy4a_agri_l1 is not None
    assert [str(w.message) for w in recwarn] == []  # no "Shell command not executed"


def test_unset_folder_says_which_variable_to_set(monkeypatch):
    from prelib.readers.errors import ProductError

    monkeypatch.delenv("PRELIB_GPM_DIR", raising=False)
    cat = intake.open_catalog(str(catalogs_dir() / "real.yaml"))
    with pytest.raises(ProductError, match="set PRELIB_GPM_DIR to your dpr_2a folder"):
        cat.gpm_dpr_2a.read()  # no search of the filesystem root
