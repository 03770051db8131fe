"""Offline maps: land/coast from landmetrics, precipitation colours, clear errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("cartopy")

from prelib.plotting.colormaps import PRECIP_LEVELS, precip_cmap_norm
from prelib.plotting.layout import layout_problems
from prelib.plotting.maps import distance_to_land, plot_precip_map, plot_precip_panels


def _field(units="mm h-1"):
    lat = np.linspace(20, 40, 60)
    lon = np.linspace(100, 125, 80)
    rain = np.exp(-(((lat[:, None] - 30) / 4) ** 2 + ((lon[None] - 112) / 6) ** 2)) * 20
    rain[rain < 0.05] = 0
    return xr.DataArray(
        rain, dims=("y", "x"), coords={"lat": ("y", lat), "lon": ("x", lon)}, attrs={"units": units}
    )


def test_land_sea_is_right_in_east_asia():
    dist = distance_to_land((20, 40), (100, 130))
    assert float(dist.sel(lat=30.0, lon=105.0, method="nearest")) < 0  # Sichuan: land
    assert float(dist.sel(lat=25.0, lon=128.0, method="nearest")) > 0  # East China Sea


def test_precip_colours_hide_dry_pixels():
    cmap, norm = precip_cmap_norm()
    assert cmap(norm(0.01))[3] == 0.0  # below the rain threshold: transparent
    assert cmap(norm(PRECIP_LEVELS[-1] * 2))[3] == 1.0


def test_map_renders_offline(tmp_path):
    import matplotlib.pyplot as plt

    terrain = _field() * 100
    fig = plot_precip_panels(
        {"truth": _field(), "retrieval": _field() * 0.5}, suptitle="test", terrain=terrain
    )
    out = tmp_path / "map.png"
    fig.savefig(out, dpi=60)
    plt.close(fig)
    image = plt.imread(out)
    assert image.shape[0] > 100 and image[..., :3].std() > 0.05  # not blank


def test_wrong_units_and_shapes_are_refused():
    with pytest.raises(ValueError, match="units"):
        plot_precip_map(_field(units="kg m-2 s-1"))
    with pytest.raises(ValueError, match="2-D"):
        plot_precip_map(_field().expand_dims(t=2))


def test_sampling_map_draws_one_outline_per_sample():
    from prelib.plotting.maps import plot_sampling_map

    lat = np.linspace(20, 22, 5)[:, None] + np.zeros((1, 3))
    lon = np.linspace(100, 101, 3)[None, :] + np.zeros((5, 1))
    ds = xr.Dataset(
        coords={
            "lat": (("sample", "y", "x"), np.stack([lat, lat + 5])),
            "lon": (("sample", "y", "x"), np.stack([lon, lon + 5])),
        }
    )
    fig = plot_sampling_map({"Full-IPR train": ds}, lat_bounds=(15, 30), lon_bounds=(95, 110))
    lines = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 16]
    assert len(lines) == 2
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["Full-IPR train"]


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_panel_layout_grows_with_rows_and_labels_do_not_overlap():
    import matplotlib.pyplot as plt

    fields = {f"panel {i}": _field() * (i + 1) for i in range(5)}
    one_row = plot_precip_panels(dict(list(fields.items())[:3]), ncols=3)
    two_rows = plot_precip_panels(fields, suptitle="five panels", ncols=3)
    w1, h1 = one_row.get_size_inches()
    w2, h2 = two_rows.get_size_inches()
    # same columns; the five-panel figure's colour bar sits in the free sixth slot instead of
    # the right margin, so it is narrower by the bar's margin
    assert w1 == pytest.approx(w2 + 0.9)
    assert h2 > 1.8 * h1 * 0.9  # a second row of maps adds about a row's height
    assert layout_problems(two_rows) == [] and layout_problems(one_row) == []
    (bar,) = [ax for ax in two_rows.axes if getattr(ax, "_colorbar", None)]
    box = bar.get_position()
    assert box.width > box.height and box.x0 > 0.6 and box.y1 < 0.5  # horizontal, lower right
    maps = [ax for ax in two_rows.axes if ax.get_visible() and hasattr(ax, "projection")]
    assert len(maps) == 5
    renderer = two_rows.canvas.get_renderer()
    two_rows.canvas.draw()
    boxes = [ax.get_tightbbox(renderer) for ax in maps]  # includes gridline labels and titles
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not _overlap(boxes[i], boxes[j]), (maps[i].get_title(), maps[j].get_title())
    for box in boxes:  # nothing drawn outside the figure
        assert box.x0 >= 0 and box.y0 >= 0
        assert box.x1 <= two_rows.bbox.x1 and box.y1 <= two_rows.bbox.y1
    plt.close(one_row)
    plt.close(two_rows)


def test_panel_height_follows_the_region_aspect():
    import matplotlib.pyplot as plt

    wide = _field()  # 20 deg x 25 deg
    tall = wide.assign_coords(lat=("y", np.linspace(0, 50, 60)))
    w_wide, h_wide = plot_precip_panels({"a": wide}, ncols=1).get_size_inches()
    w_tall, h_tall = plot_precip_panels({"a": tall}, ncols=1).get_size_inches()
    assert w_wide == pytest.approx(w_tall)
    assert h_tall > 1.5 * h_wide
    plt.close("all")


def test_borders_are_shipped_and_drawn_offline():
    from matplotlib.collections import LineCollection

    from prelib.plotting.maps import BORDERS_FILE, country_borders

    assert BORDERS_FILE.stat().st_size < 300 * 1024
    lon, lat = country_borders()
    # the China-Nepal border runs along the Himalaya near 28-30 N, 82-88 E
    near = (lat > 27.5) & (lat < 30.5) & (lon > 82) & (lon < 88)
    assert near.sum() > 20
    ax = plot_precip_map(
        _field().assign_coords(
            lat=("y", np.linspace(25, 32, 60)), lon=("x", np.linspace(80, 92, 80))
        )
    )
    assert any(isinstance(c, LineCollection) for c in ax.collections)


def test_terrain_contours_carry_one_label_per_level():
    import matplotlib.pyplot as plt

    lat, lon = np.linspace(20, 40, 60), np.linspace(100, 125, 80)
    ridges = 3000 + 2500 * np.sin(lat[:, None]) * np.cos(lon[None] / 2)  # many closed lines
    terrain = xr.DataArray(ridges, dims=("y", "x"), coords={"lat": ("y", lat), "lon": ("x", lon)})
    ax = plot_precip_map(_field(), terrain=terrain)
    labels = [t.get_text() for t in ax.texts]
    assert labels and len(labels) == len(set(labels)) <= 4  # one per level (500 … 4500 m)
    plt.close("all")
