"""Composition of the two networks, region retrieval to CF xarray and atomic NetCDF output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from prelib import conventions as cv
from prelib.inference.composition import TwoNetworkRetrieval, compose_precipitation
from prelib.inference.retrieval import (
    normalize_ir,
    retrieve_precipitation,
    write_precipitation_netcdf,
)


def test_composition_zeroes_no_rain_and_clamps_by_default():
    logits = torch.tensor([[[[2.0, -1.0, 0.0]], [[0.0, 1.0, 3.0]]]])  # argmax: 0, 1, 1
    rate = torch.tensor([[[[5.0, 2.0, -0.5]]]])
    assert compose_precipitation(logits, rate).flatten().tolist() == [0.0, 2.0, 0.0]
    faithful = compose_precipitation(logits, rate, clamp_negative=False)
    assert faithful.flatten().tolist() == [0.0, 2.0, -0.5]
    with pytest.raises(ValueError, match=r"\(B, 2, H, W\)"):
        compose_precipitation(rate, rate)


class ColdCloudRain(torch.nn.Module):
    """A transparent 'network' on normalised IR: rain where the 10.8 µm channel is cold."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.window = cv.AGRI_IR_CHANNELS.index(cv.AGRI_WINDOW_CHANNEL)

    def forward(self, x):
        tb = x[:, self.window : self.window + 1] * cv.IR_NORM[1] + cv.IR_NORM[0]
        if self.kind == "cls":
            return torch.cat([tb - 235.0, 235.0 - tb], dim=1)
        return (250.0 - tb) / 10.0


def _scene(h=70, w=90):
    rng = np.random.default_rng(0)
    ir = rng.uniform(200.0, 300.0, size=(cv.N_IR, h, w)).astype(np.float32)
    lat = np.linspace(40.0, 30.0, h)
    lon = np.linspace(100.0, 112.0, w)
    return ir, lat, lon


def test_region_retrieval_is_cf_annotated_and_written_atomically(tmp_path):
    ir, lat, lon = _scene()
    ir[:, 5, 7] = np.nan  # a missing IR pixel
    model = TwoNetworkRetrieval(ColdCloudRain("cls"), ColdCloudRain("reg"))
    ds = retrieve_precipitation(
        model, ir, lat, lon, time="2023-07-01T06:00", tile=32, overlap=8, margin=2
    )
    precip = ds[cv.VAR_PRECIP]
    assert precip.dims == (cv.DIM_TIME, cv.DIM_Y, cv.DIM_X)
    assert precip.attrs["units"] == cv.UNITS_PRECIP
    assert precip.attrs["standard_name"] == "lwe_precipitation_rate"
    assert ds.attrs["Conventions"] == cv.CONVENTIONS_ATTR
    values = precip.values[0]
    assert np.isnan(values[5, 7]) and np.isfinite(np.delete(values.ravel(), 5 * 90 + 7)).all()
    tb = ir[cv.AGRI_IR_CHANNELS.index(cv.AGRI_WINDOW_CHANNEL)]
    cold, warm = tb < 234.0, tb > 236.0
    expected = (250.0 - tb) / 10.0
    np.testing.assert_allclose(
        values[cold & np.isfinite(values)], expected[cold & np.isfinite(values)], rtol=1e-4
    )
    assert (values[warm] == 0).all()
    path = write_precipitation_netcdf(ds, tmp_path / "out" / "precip.nc")
    assert not list(path.parent.glob(".precip.nc.tmp-*"))
    with xr.open_dataset(path) as back:
        assert back[cv.VAR_PRECIP].attrs["units"] == cv.UNITS_PRECIP
        np.testing.assert_allclose(back[cv.VAR_PRECIP].values, precip.values, equal_nan=True)
        assert back[cv.VAR_LAT].attrs["units"] == cv.UNITS_LAT


def test_retrieval_input_errors():
    ir, lat, lon = _scene()
    model = TwoNetworkRetrieval(ColdCloudRain("cls"), ColdCloudRain("reg"))
    with pytest.raises(ValueError, match=r"\(8, H, W\)"):
        retrieve_precipitation(model, ir[:3], lat, lon, tile=32, overlap=8, margin=2)
    with pytest.raises(ValueError, match="lat/lon"):
        retrieve_precipitation(model, ir, lat[:-1], lon, tile=32, overlap=8, margin=2)
    ir[:, 0, 0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        retrieve_precipitation(
            model, ir, lat, lon, tile=32, overlap=8, margin=2, nan_policy="raise"
        )
    assert normalize_ir(np.array([100.0, 500.0])).tolist() == [0.0, 1.0]
