"""CSI-n: a hand-made field, torch's max_pool2d, missing windows, ragged edges."""

from __future__ import annotations

import numpy as np
import pytest

from prelib.metrics import NeighbourhoodCategorical, NeighbourhoodCSI, get_metric, max_pool_blocks


def hand_field():
    """8 × 8 fields whose four 4 × 4 windows are a hit, a miss, a false alarm and a NaN window."""
    truth = np.zeros((8, 8))
    pred = np.zeros((8, 8))
    truth[1, 1], pred[2, 3] = 1.0, 2.0  # window (0, 0): rain in both, at different pixels -> hit
    truth[0, 6] = 0.5  # window (0, 1): observed only -> miss
    pred[5, 2] = 0.1  # window (1, 0): predicted only (>= 0.1) -> false alarm
    pred[6, 6], truth[7, 7] = 3.0, np.nan  # window (1, 1): contains a NaN truth -> dropped
    return pred, truth


def test_hand_made_field_csi4():
    pred, truth = hand_field()
    metric = NeighbourhoodCSI(kernel=4)
    metric.update(pred[None], truth[None])
    table = metric.table
    assert (table.hits[0], table.misses[0], table.false_alarms[0], table.correct_negatives[0]) == (
        1,
        1,
        1,
        0,
    )
    assert metric.compute() == pytest.approx(1 / 3)
    # at pixel scale no rain pixel coincides: CSI-1 is 0, CSI-8 has only the NaN window -> NaN
    pixel = NeighbourhoodCSI(kernel=1)
    pixel.update(pred, truth)
    assert pixel.compute() == 0.0
    whole = NeighbourhoodCSI(kernel=8)
    whole.update(pred, truth)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(whole.compute())


def test_missing_prediction_and_mask_drop_windows_too():
    pred, truth = hand_field()
    truth[7, 7] = 1.0  # window (1, 1) becomes a hit
    pred[0, 0] = np.nan  # drops the hit window
    valid = np.ones_like(truth, dtype=bool)
    valid[4, 0] = False  # drops the false-alarm window
    metric = NeighbourhoodCSI(kernel=4)
    metric.update(pred, truth, valid)
    table = metric.table
    assert (table.hits[0], table.misses[0], table.false_alarms[0]) == (1, 1, 0)


def test_max_pool_matches_torch_floor_mode(pair_factory):
    torch = pytest.importorskip("torch")
    pred, _ = pair_factory(3, shape=(3, 2, 23, 18), missing=0.0)
    pooled, pooled_valid = max_pool_blocks(pred, np.ones(pred.shape, bool), 4)
    expected = torch.nn.functional.max_pool2d(torch.from_numpy(pred), kernel_size=4).numpy()
    assert pooled.shape == expected.shape == (3, 2, 5, 4)
    np.testing.assert_array_equal(pooled, expected)
    assert pooled_valid.all()


def test_ragged_trailing_windows_are_dropped():
    truth = np.zeros((10, 10))
    pred = np.zeros((10, 10))
    truth[9, 0] = pred[0, 9] = 5.0  # both in the trailing partial rows / columns
    truth[0, 0] = pred[0, 0] = 1.0
    metric = NeighbourhoodCSI(kernel=4)
    metric.update(pred, truth)
    assert metric.table.total[0] == 4  # a 2 x 2 grid of complete windows
    assert metric.compute() == 1.0


def test_paper_sizes_and_registry_names():
    rng = np.random.default_rng(0)
    field = rng.random((2, 256, 256))
    pooled, _ = max_pool_blocks(field, np.ones(field.shape, bool), 8)
    assert pooled.shape == (2, 32, 32)
    assert get_metric("csi4").kernel == 4 and get_metric("csi8").kernel == 8
    pod16 = get_metric("pod16@1")
    assert isinstance(pod16, NeighbourhoodCategorical)
    assert (pod16.kernel, pod16.score, pod16.threshold, pod16.name) == (16, "pod", 1.0, "pod16")


def test_streaming_equals_one_pass(pair_factory):
    pred, truth = pair_factory(4, shape=(6, 32, 24))
    whole, merged = NeighbourhoodCSI(4), NeighbourhoodCSI(4)
    whole.update(pred, truth)
    for part in (slice(0, 1), slice(1, 4), slice(4, 6)):
        piece = NeighbourhoodCSI(4)
        piece.update(pred[part], truth[part])
        merged.merge(piece)
    assert merged.compute() == whole.compute()
    per_sample = NeighbourhoodCSI(4, aggregation="per_sample")
    per_sample.update(pred, truth)
    expected = []
    for p, t in zip(pred, truth):
        sample = NeighbourhoodCSI(4)
        sample.update(p, t)
        expected.append(sample.compute())
    assert per_sample.compute() == pytest.approx(np.mean(expected))


def test_bad_kernels_raise():
    with pytest.raises(ValueError, match="kernel must be a positive integer"):
        NeighbourhoodCSI(kernel=0)
    with pytest.raises(ValueError, match="kernel must be a positive integer"):
        NeighbourhoodCSI(kernel=2.5)
    metric = NeighbourhoodCSI(kernel=8)
    with pytest.raises(ValueError, match="larger than the spatial size"):
        metric.update(np.zeros((4, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="at least 2 dimension"):
        metric.update(np.zeros(16), np.zeros(16))
