import numpy as np
import pytest
import xarray as xr

from prelib.data.precip_grids import upsample
from prelib.downscaling.inference import downscale_field, refine_coordinate
from prelib.models.maunet import build_maunet


def field(values):
    ny, nx = values.shape
    return xr.DataArray(
        values,
        dims=("y", "x"),
        name="precip",
        attrs={"units": "mm h-1"},
        coords={"lat": ("y", 30 - 0.04 * np.arange(ny)), "lon": ("x", 110 + 0.04 * np.arange(nx))},
    )


def test_tiled_interpolation_equals_untiled_and_coordinates_refine(rain_fields):
    values = rain_fields(1, 40)[0][:37, :29]
    out = downscale_field("bilinear", field(values), 4, tile=16, halo=2)
    assert out.shape == (148, 116) and out.attrs["units"] == "mm h-1"
    np.testing.assert_allclose(out.values, upsample(values, 4, "bilinear"), atol=1e-5)
    np.testing.assert_allclose(np.diff(out.lat.values), -0.01, atol=1e-6)
    assert out.lat.values[0] == pytest.approx(30 - 0.04 * (0.5 / 4 - 0.5))


def test_maunet_tiles_and_nan_handling(rain_fields):
    values = rain_fields(1, 40)[0][:20, :20].copy()
    values[0, 0] = np.nan
    model = build_maunet(4, base_width=4, depth=2).eval()
    with pytest.raises(ValueError, match="NaN"):
        downscale_field(model, field(values), 4, tile=16, halo=2)
    out = downscale_field(model, field(values), 4, tile=16, halo=2, fill_nan=True)
    assert out.shape == (80, 80)
    assert np.isnan(out.values[:4, :4]).all() and np.isfinite(out.values[4:, 4:]).all()
    assert (out.values[4:, 4:] >= 0).all()


def test_bad_inputs(rain_fields):
    values = rain_fields(1, 16)[0]
    with pytest.raises(ValueError, match="units"):
        downscale_field("bilinear", field(values).assign_attrs(units="K"), 2)
    with pytest.raises(ValueError, match="trained for factor"):
        downscale_field(build_maunet(4, base_width=4, depth=2), field(values), 2)
    with pytest.raises(ValueError, match="2-D"):
        downscale_field("bilinear", field(values).expand_dims("time"), 2)
    with pytest.raises(ValueError, match="tile"):
        downscale_field("bilinear", field(values), 2, tile=20)
    np.testing.assert_allclose(
        refine_coordinate(np.array([0.0, 1.0]), 0, 2), [-0.25, 0.25, 0.75, 1.25]
    )


def test_precipdiff_ensemble_mean_field(rain_fields):
    from prelib.models.diffusion_unet import DiffusionUNetConfig
    from prelib.models.edm import EDMConfig
    from prelib.models.precipdiff import PrecipDiff

    unet = DiffusionUNetConfig(base_width=4, channel_mult=(1, 2), blocks_per_level=1)
    model = PrecipDiff(2, unet, EDMConfig(n_steps=2)).eval()
    out = downscale_field(model, field(rain_fields(1, 16)[0]), 2, tile=16, halo=2, n_members=2)
    assert out.shape == (32, 32) and np.isfinite(out.values).all() and (out.values >= 0).all()


def test_accumulations_are_converted_with_a_warning(rain_fields):
    values = rain_fields(1, 16)[0]
    rate = downscale_field("nearest", field(values), 2, tile=16, halo=2)
    hourly_mm = field(values / 6.0).assign_attrs(units="mm")  # 10-minute accumulations
    with pytest.warns(UserWarning, match="converted to rates"):
        out = downscale_field("nearest", hourly_mm, 2, tile=16, halo=2, accumulation="10min")
    np.testing.assert_allclose(out.values, rate.values, rtol=1e-5)
    assert out.attrs["units"] == "mm h-1"
    with pytest.raises(ValueError, match="accumulation; pass its period"):
        downscale_field("nearest", hourly_mm, 2, tile=16, halo=2)
    si = field(values / 3600.0).assign_attrs(units="kg m-2 s-1")
    np.testing.assert_allclose(
        downscale_field("nearest", si, 2, tile=16, halo=2).values, rate.values, rtol=1e-5
    )
