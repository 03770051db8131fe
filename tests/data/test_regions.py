import numpy as np
import pytest
import xarray as xr

from prelib.atomic import SIDECAR_DIR
from prelib.conventions import CASE_STUDIES as CASE_NAMES
from prelib.data.regions import CASE_STUDIES, case_path, simulate_case, simulate_region, write_scene


def test_case_studies_match_conventions_and_look_like_their_names():
    assert tuple(CASE_STUDIES) == CASE_NAMES
    for name in CASE_NAMES:
        scene = simulate_case(name)
        assert scene.attrs["regime"] == name and scene.attrs["case"] == name
        precip = scene["precip"].values
        assert 0.03 < (precip >= 0.1).mean() < 0.8, name
        if name == "orographic":  # slopes wetter than the lowlands and the plateau behind
            elevation = scene["elevation"].values
            slopes = precip[(elevation > 500) & (elevation < 3500)].mean()
            assert slopes > precip[elevation < 300].mean()
            assert slopes > precip[elevation > 4000].mean()


def test_region_scene_is_written_atomically_and_reads_back(tmp_path):
    scene = simulate_region((20.0, 21.0), (110.0, 111.5), "2021-07-01T06", seed=2)
    assert dict(scene.sizes) == {"ir_channel": 8, "y": 25, "x": 38}
    path = write_scene(scene, tmp_path / "scene.nc")
    back = xr.open_dataset(path, engine="h5netcdf")
    assert back["precip"].attrs["units"] == "mm h-1" and back["ir"].attrs["units"] == "K"
    np.testing.assert_array_equal(back["ir"].values, scene["ir"].values)
    assert back["time"].values == scene["time"].values
    assert [p.name for p in tmp_path.iterdir() if p.name != SIDECAR_DIR] == ["scene.nc"]
    assert case_path("frontal", tmp_path) == tmp_path / "synthetic" / "cases" / "frontal.nc"


@pytest.mark.parametrize(
    ("lat", "lon", "kwargs", "match"),
    [
        ((-5.0, 2.0), (100.0, 101.0), {}, "domain"),
        ((10.0, 10.0), (100.0, 101.0), {}, "size"),
        ((10.0, 11.0), (100.0, 101.0), {"regime": "monsoon"}, "regime"),
    ],
)
def test_bad_regions(lat, lon, kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_region(lat, lon, "2021-07-01", **kwargs)


def test_bad_case_and_file_names(tmp_path):
    with pytest.raises(ValueError, match="case"):
        simulate_case("typhoon")
    with pytest.raises(ValueError, match=r"\.nc"):
        write_scene(xr.Dataset(), tmp_path / "scene.zarr")
