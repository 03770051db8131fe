import numpy as np

from prelib.data.transforms import IGNORE_INDEX, label_targets, normalise, sample_to_arrays


def _raw(h=4, w=3):
    rng = np.random.default_rng(0)
    return {
        "ir": rng.uniform(180, 320, (8, h, w)).astype("f4"),
        "pmw": rng.uniform(100, 290, (13, h, w)).astype("f4"),
        "pr": np.where(rng.uniform(size=(176, h, w)) < 0.8, np.nan, 30.0).astype("f4"),
        "precip": rng.uniform(0, 2, (h, w)).astype("f4"),
        "elevation": rng.uniform(0, 5000, (h, w)).astype("f4"),
        "lat": np.full((h, w), 30.0, "f4"),
        "lon": np.full((h, w), 120.0, "f4"),
    }


def test_normalisation_follows_conventions():
    out, finite = normalise(np.array([100.0, 300.0, 500.0, np.nan]), (100.0, 400.0))
    assert np.allclose(out, [0.0, 0.5, 1.0, 0.0]) and finite.tolist() == [True, True, True, False]
    arrays = sample_to_arrays(_raw(), "swath")
    assert np.allclose(arrays["geo"][1], (30 + 90) / 180) and np.allclose(
        arrays["geo"][2], 300 / 360
    )
    assert arrays["pr"][np.isnan(_raw()["pr"])].max() == 0.0  # no echo → 0
    assert np.allclose(arrays["pr"][~np.isnan(_raw()["pr"])], 0.5)
    for name in ("ir", "pmw", "geo"):
        assert (
            arrays[name].dtype == np.float32 and 0 <= arrays[name].min() <= arrays[name].max() <= 1
        )


def test_missing_labels_are_invalid_not_dry():
    precip = np.array([[np.nan, 0.05], [0.1, 3.0]], dtype="f4")
    t = label_targets(precip)
    assert t["valid"].tolist() == [[False, True], [True, True]]
    assert t["rain"].tolist() == [[IGNORE_INDEX, 0], [1, 1]] and t["rain"].dtype == np.int64
    assert t["precip"].tolist() == [[0.0, np.float32(0.05)], [np.float32(0.1), 3.0]]


def test_missing_inputs_are_filled_and_flagged():
    raw = _raw()
    raw["ir"][3, 1, 2] = np.nan
    raw["pmw"][0, 0, 0] = np.nan
    raw["elevation"][2, 1] = np.nan
    arrays = sample_to_arrays(raw, "swath")
    bad = {(1, 2), (0, 0), (2, 1)}
    for (i, j), ok in np.ndenumerate(arrays["input_valid"]):
        assert ok == ((i, j) not in bad)
    assert arrays["ir"][3, 1, 2] == 0.0 and np.isfinite(arrays["ir"]).all()
    assert np.isfinite(arrays["pmw"]).all() and np.isfinite(arrays["geo"]).all()
    full = sample_to_arrays(
        {k: raw[k] for k in ("ir", "precip", "elevation", "lat", "lon")}, "fulldisc"
    )
    assert "pmw" not in full and full["input_valid"][0, 0]  # PMW does not count for Full-IPR
