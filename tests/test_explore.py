"""The case explorer: its logic driven from Python, its widget callbacks driven like a user."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from prelib import conventions as cv
from prelib.explore import (
    TRUTH,
    VIEWS,
    CaseExplorer,
    baseline_method,
    load_methods,
    network_method,
)
from prelib.plotting.layout import layout_problems

pytest.importorskip("cartopy")

pytestmark = pytest.mark.slow  # ~35 s: scenes simulated and retrieved hour by hour

BOX = ((28.0, 29.2), (112.0, 113.6))  # small: ~30 x 40 pixels at 4 km
START = "2021-07-15T06:00"


@pytest.fixture(scope="module")
def methods():
    from prelib.baselines import get_baseline
    from prelib.data.regions import simulate_region
    from prelib.inference.composition import TwoNetworkRetrieval
    from prelib.models.config import UNetConfig
    from prelib.models.unet import UNet

    train = simulate_region((30.0, 31.0), (110.0, 111.5), "2021-07-01T06", seed=3)
    gpi = get_baseline("gpi")
    gpi.fit(train["ir"].values[None], train["precip"].values[None])
    torch.manual_seed(0)
    unet = TwoNetworkRetrieval(
        UNet(UNetConfig(base_width=4, n_classes=2)), UNet(UNetConfig(base_width=4))
    )
    return {"GPI": baseline_method(gpi), "UNet (untrained)": network_method(unet, "cpu")}


@pytest.fixture(scope="module")
def explorer(methods):
    return CaseExplorer(methods, hours=2).open_region(*BOX, START, seed=1, regime="convective")


def test_region_hours_are_simulated_and_every_method_runs(explorer):
    assert len(explorer.scenes) == 2
    assert [str(t) for t in explorer.times] == ["2021-07-15T06:00", "2021-07-15T07:00"]
    for rain in explorer.retrievals:
        assert set(rain) == {"GPI", "UNet (untrained)"}
        for values in rain.values():
            assert values.shape == explorer.scene["lat"].shape and np.isfinite(values).all()
    gpi = explorer.retrievals[0]["GPI"]
    cold = explorer.scenes[0]["ir"].sel(ir_channel=cv.AGRI_WINDOW_CHANNEL).values < 235
    assert (gpi[cold] > 0).all() and (gpi[~cold] == 0).all()  # GPI: rain under cold tops only


def test_the_hour_slider_follows_one_evolving_storm(methods):
    """Consecutive hours of a synthetic case are one storm moved on by the wind, not unrelated
    draws: the next hour's label matches this hour's moved one hour downwind."""
    from scipy import ndimage

    explorer = CaseExplorer(methods, hours=2).open_region(
        (30.0, 33.0), (110.0, 113.0), START, seed=0, regime="frontal"
    )
    first, second = (scene["precip"].values for scene in explorer.scenes)
    attrs = explorer.scenes[0].attrs
    shift = (attrs["wind_v"] * 3.6 / 4.0, attrs["wind_u"] * 3.6 / 4.0)  # pixels in one hour
    moved = ndimage.shift(first, shift, order=1, mode="constant", cval=np.nan)
    inside = np.isfinite(moved)
    assert np.corrcoef(moved[inside], second[inside])[0, 1] > 0.7
    assert explorer.scenes[1].attrs["storm_start"] == START


def test_views_switch_what_is_drawn(explorer):
    explorer.set_view("truth")
    assert list(explorer.fields()) == ["truth (hourly label)"]
    explorer.set_view("methods")
    assert list(explorer.fields()) == ["truth (hourly label)", "GPI", "UNet (untrained)"]
    explorer.set_view("difference")
    diff = explorer.fields()["GPI − truth"]
    truth = explorer.scene["precip"].values
    np.testing.assert_allclose(diff, explorer.retrievals[explorer.hour]["GPI"] - truth)
    with pytest.raises(ValueError, match="view"):
        explorer.set_view("3d")


def test_pixel_report_follows_the_hour(explorer):
    explorer.set_hour(0)
    report = explorer.select_pixel(28.6, 112.8)
    assert abs(report.lat - 28.6) < 0.03 and abs(report.lon - 112.8) < 0.03
    assert report.channels == cv.AGRI_IR_CHANNELS
    assert report.wavelengths_um[5] == pytest.approx(10.8)
    ir = explorer.scene["ir"].values[:, report.y, report.x]
    np.testing.assert_allclose(report.brightness_temperature_k, ir, rtol=1e-6)
    assert report.rain[TRUTH] == pytest.approx(float(explorer.scene["precip"][report.y, report.x]))
    explorer.set_hour(1)
    later = explorer.pixel
    assert (later.y, later.x) == (report.y, report.x)
    np.testing.assert_allclose(
        later.brightness_temperature_k, explorer.scenes[1]["ir"].values[:, report.y, report.x]
    )
    with pytest.raises(ValueError, match="outside the scene"):
        explorer.select_pixel(45.0, 112.8)
    with pytest.raises(ValueError, match="hour"):
        explorer.set_hour(2)


def test_click_selects_the_pixel(explorer):
    explorer.set_view("methods")
    fig = explorer.figure()
    map_ax = next(ax for ax in fig.axes if hasattr(ax, "projection"))
    event = type("Click", (), {"inaxes": map_ax, "xdata": 112.4, "ydata": 28.3})()
    report = explorer.on_click(event)
    assert report is explorer.pixel and abs(report.lon - 112.4) < 0.03
    assert explorer.on_click(type("Click", (), {"inaxes": None, "xdata": None})()) is None


@pytest.mark.parametrize("view", VIEWS)
def test_figure_follows_the_layout_rules(explorer, view):
    import matplotlib.pyplot as plt

    explorer.set_view(view)
    explorer.select_pixel(28.6, 112.8)
    fig = explorer.figure()
    assert layout_problems(fig) == []
    maps = [ax for ax in fig.axes if hasattr(ax, "projection")]
    assert len(maps) == len(explorer.fields())
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "IR spectrum" in titles and "rain by method" in titles
    plt.close(fig)


def test_widget_callbacks_drive_the_explorer(methods):
    explorer = CaseExplorer(methods, hours=2)
    ui = explorer.widget()
    ui.source.value = "region"
    ui.lat.value, ui.lon.value = BOX
    ui.time.value = START
    ui.on_open()
    assert len(explorer.scenes) == 2 and ui.renders == 1 and ui.hour.max == 1
    ui.hour.value = 1  # the slider's observer moves the explorer
    assert explorer.hour == 1 and ui.renders == 2
    ui.view.value = "difference"
    assert explorer.view == "difference" and ui.renders == 3
    ui.pixel_lat.value, ui.pixel_lon.value = 28.5, 112.5
    ui.on_pixel()
    assert explorer.pixel is not None and "mm h-1" in ui.message and ui.renders == 4
    ui.pixel_lat.value = 50.0  # outside: a message, no exception, no redraw
    ui.on_pixel()
    assert "outside the scene" in ui.message and ui.renders == 4
    ui.time.value = "not a time"
    ui.on_open()
    assert ui.message and len(explorer.scenes) == 2  # the old case stays


def test_widget_starts_from_the_opened_case(methods):
    explorer = CaseExplorer(methods, hours=1).open_region(*BOX, START, seed=1)
    assert explorer.case is None and explorer.widget().source.value == "region"
    explorer.case = "orographic"  # as open_case leaves it, without simulating the big case
    assert explorer.widget().source.value == "orographic"


def test_own_scenes_without_label_offer_only_the_methods_view(methods, explorer):
    scene = explorer.scenes[0].drop_vars("precip")
    own = CaseExplorer(methods).open_scenes(scene, "an AGRI-like scene")
    assert not own.has_truth and list(own.fields()) == ["GPI", "UNet (untrained)"]
    with pytest.raises(ValueError, match="needs a label"):
        own.set_view("truth")
    assert TRUTH not in own.select_pixel(28.6, 112.8).rain
    with pytest.raises(ValueError, match="8 channels"):
        own.open_scenes(scene.isel(ir_channel=slice(0, 3)))
    with pytest.raises(ValueError, match="at least one"):
        CaseExplorer({})


def _save_pair(folders, network, cfg, file="best.pt"):
    """Un-trained checkpoints of ``network`` (``prenet``: Stage-II Self-MaskTune, ``unet``: the
    Stage-I student without distillation) in ``folders[task]``, storing ``cfg`` as training
    does."""
    from prelib.training.checkpoint import make_header, save_checkpoint
    from prelib.training.stages import (
        adapted_name,
        adapted_structure,
        build_distillation,
        student_name,
    )

    paths = {}
    for task, folder in folders.items():
        if network == "prenet":
            net, name = (
                adapted_structure(cfg.models, task, "selfmask"),
                adapted_name("selfmask", task),
            )
        else:
            net = build_distillation(cfg.models, task, "none")  # the pair, as Stage I saves it
            name = student_name("none", task)
        header = {**make_header(name, cfg.profile, {}, 1), "run_config": cfg.to_dict()}
        folder.mkdir(parents=True, exist_ok=True)
        paths[task] = save_checkpoint(folder / file, {"header": header, "model": net.state_dict()})
    return paths


def test_load_methods_finds_the_networks_of_a_run_folder(tmp_path, explorer):
    from prelib.config import resolve
    from prelib.workflow.artefacts import RunLayout

    layout = RunLayout(tmp_path / "run", tmp_path / "data")
    methods, notes = load_methods(layout, "tiny", baselines=())
    assert methods == {} and len(notes) == 2  # nothing trained yet: both said, with the fix
    assert str(layout.adapted_dir("selfmask", "cls").parent) in notes[0] and "PRE-Net" in notes[0]
    assert "prelib train adapt --variant selfmask" in notes[0]
    assert str(layout.student_dir("none", "cls").parent) in notes[1] and "UNet" in notes[1]
    assert "prelib train distill --variant none" in notes[1]
    # PRE-Net narrower than the tiny profile's: rebuilt from the checkpoint's stored configuration
    narrow = resolve("tiny", models={"prenet": {"base_width": 4}})
    tasks = ("cls", "reg")
    _save_pair({t: layout.adapted_dir("selfmask", t) for t in tasks}, "prenet", narrow)
    _save_pair(
        {t: layout.student_dir("none", t) for t in tasks}, "unet", resolve("tiny"), "last.pt"
    )
    methods, notes = load_methods(layout.root, "tiny", data_dir=layout.data_dir, baselines=())
    assert list(methods) == ["PRE-Net", "UNet (IR only)"] and notes == []
    scene = explorer.scenes[0]
    ir, lat, lon = scene["ir"].values, scene["lat"].values, scene["lon"].values
    for method in methods.values():
        rain = method(ir, lat, lon)
        assert rain.shape == lat.shape and np.isfinite(rain).all() and (rain >= 0).all()


def test_load_methods_takes_explicit_checkpoints_and_fits_baselines_on_the_store(tmp_path):
    from prelib.config import resolve
    from prelib.workflow.artefacts import RunLayout

    cfg = resolve("tiny")
    unet = _save_pair({t: tmp_path / "elsewhere" / t for t in ("cls", "reg")}, "unet", cfg)
    layout = RunLayout(tmp_path / "run", tmp_path / "data")
    store = layout.benchmark("fulldisc", "train", cfg)
    methods, notes = load_methods(layout, cfg, checkpoints={"unet": unet}, baselines=("gpi",))
    assert list(methods) == ["UNet (IR only)", "GPI"]
    assert len(notes) == 1 and "PRE-Net" in notes[0]
    assert store.exists()  # the missing training store was built in the data folder
    with pytest.raises(ValueError, match="checkpoints must map"):
        load_methods(layout, cfg, checkpoints={"unet": {"reg": unet["reg"]}}, baselines=())
    with pytest.raises(ValueError, match="checkpoints must map"):
        load_methods(layout, cfg, checkpoints={"teacher": unet}, baselines=())
    with pytest.raises(FileNotFoundError, match="no unet cls checkpoint"):
        missing = {"cls": tmp_path / "nope.pt", "reg": unet["reg"]}
        load_methods(layout, cfg, checkpoints={"unet": missing}, baselines=())
