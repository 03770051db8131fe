"""Saved models are read without unpickling: a pickle payload in a user file is never run."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from prelib.baselines import get_baseline, load_baseline
from prelib.baselines.gbm import pixel_features
from prelib.errors import UnsafeFileError


class _Payload:
    """Unpickling this creates a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("suffix", [".bin", ".joblib", ".pkl", ""])
def test_a_pickle_payload_is_never_executed(tmp_path, suffix):
    marker = tmp_path / "pwned"
    evil = tmp_path / f"evil{suffix}"
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(UnsafeFileError, match="pickle-free"):
        load_baseline(evil)
    assert not marker.exists()


def test_a_pickle_named_npz_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match=r"evil\.npz: not a baseline saved by prelib"):
        load_baseline(evil)
    assert not marker.exists()


def test_gbm_saves_plain_arrays_and_predicts_exactly_like_scikit_learn(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from prelib.baselines.tree_ensemble import (
        compiled_raw_prediction,
        export_trees,
        numpy_raw_prediction,
        raw_prediction,
    )

    rng = np.random.default_rng(0)
    ir = rng.uniform(190, 300, (6, 8, 12, 12)).astype(np.float32)
    rain = np.where(ir[:, 4] < 230, (240 - ir[:, 4]) / 5, 0).astype(np.float32)
    model = get_baseline("gbm", max_iter=15, max_pixels=600).fit(ir, rain)
    path = model.save(tmp_path / "gbm.npz")
    with np.load(path, allow_pickle=False) as data:  # would raise on any object array
        assert all(data[k].dtype != object for k in data.files)
    np.testing.assert_array_equal(load_baseline(path).predict(ir), model.predict(ir))
    # the numpy tree walk is scikit-learn's own prediction, NaN routing included
    x = pixel_features(ir)
    x[::7, 3] = np.nan
    wet = rain.ravel() > 0.1
    reg = HistGradientBoostingRegressor(max_iter=10, random_state=0).fit(x, rain.ravel())
    clf = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(x, wet)
    np.testing.assert_allclose(raw_prediction(export_trees(reg, "r"), "r", x), reg.predict(x))
    assert np.array_equal(raw_prediction(export_trees(clf, "c"), "c", x) > 0, clf.predict(x))
    # the compiled walker (used when scikit-learn has it) and the numpy walk agree bit for bit
    for model_, name in ((reg, "r"), (clf, "c")):
        trees = export_trees(model_, name)
        compiled = compiled_raw_prediction(trees, name, x)
        assert compiled is not None  # this scikit-learn has the walker: the fast path is used
        np.testing.assert_array_equal(compiled, numpy_raw_prediction(trees, name, x))
    with pytest.raises(ValueError, match="npz"):
        model.save(tmp_path / "gbm.joblib")
