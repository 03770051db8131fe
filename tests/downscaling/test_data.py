import numpy as np
import pytest

from prelib.data.precip_grids import coarsen
from prelib.downscaling.data import (
    MRMS_FILE,
    DownscalingPairs,
    extract_patches,
    make_pairs,
    read_mrms,
)


def test_pairs_shapes_and_coarse_truths(rain_fields):
    pairs = make_pairs(rain_fields(3, 40), 10)
    assert pairs.satellite.shape == (3, 4, 4) and len(pairs) == 3
    np.testing.assert_array_equal(pairs.coarse_truth, coarsen(pairs.fine, 10, "max"))
    assert (pairs.coarse_truth >= pairs.coarse_truth_mean).all()
    assert len(pairs.subset(slice(0, 2))) == 2


def test_pairs_reject_mismatched_grids(rain_fields):
    fine = rain_fields(2, 40)
    with pytest.raises(ValueError, match="grids do not match"):
        DownscalingPairs(fine, np.zeros((2, 5, 4), np.float32), 10)
    with pytest.raises(ValueError, match="samples"):
        DownscalingPairs(fine, np.zeros((1, 4, 4), np.float32), 10)
    with pytest.raises(ValueError, match="does not divide"):
        make_pairs(fine[:, :35, :35], 10)


def test_extract_patches_keeps_complete_rainy_aligned_tiles():
    fields = np.zeros((2, 40, 60), dtype=np.float32)
    fields[0, :20, :20] = 1.0  # rainy, complete
    fields[0, 20:, :20] = 1.0
    fields[0, 25, 5] = np.nan  # rainy but incomplete
    tiles = extract_patches(fields, 20, 10, min_wet_fraction=0.5)
    assert tiles.shape == (1, 20, 20) and (tiles == 1).all()
    with pytest.raises(ValueError, match="no complete"):
        extract_patches(np.zeros((1, 20, 20)), 20, 10)


def test_mrms_loader_units_and_coverage(shared_data):
    if not (shared_data / MRMS_FILE).is_file():
        pytest.skip("MRMS sample absent")
    field = read_mrms(shared_data / MRMS_FILE, (29.0, 34.0), (-78.0, -72.0), slice(0, 2))
    assert field.dims == ("time", "y", "x") and field.shape == (2, 500, 600)
    assert field.attrs["units"] == "mm h-1" and field.dtype == np.float32
    values = field.values
    offshore = np.isnan(values)
    assert 0.1 < offshore.mean() < 0.9  # coverage ends offshore: missing, not dry
    assert (values[~offshore] >= 0).all() and (values[~offshore] < 300).all()
    far_offshore = read_mrms(shared_data / MRMS_FILE, (30.0, 30.5), (-75.0, -74.5), slice(0, 1))
    assert np.isnan(far_offshore.values).all()  # beyond radar range: NaN, never 0
    assert np.diff(field.lat.values).max() < 0 and field.lon.values[0] == pytest.approx(-77.995)


def test_mrms_pairs_split_by_time(shared_data):
    from prelib.downscaling.data import mrms_pairs

    if not (shared_data / MRMS_FILE).is_file():
        pytest.skip("MRMS sample absent")
    train, test = mrms_pairs(
        10,
        40,
        (44.0, 46.0),
        (-86.0, -84.0),
        slice(0, 2),
        slice(30, 31),
        max_patches=(5, 3),
        path=shared_data / MRMS_FILE,
    )
    assert train.source == "mrms (semi-synthetic)"
    assert train.fine.shape[1:] == (40, 40) and train.satellite.shape[1:] == (4, 4)
    assert 0 < len(train) <= 5 and 0 < len(test) <= 3
    assert np.isfinite(train.fine).all() and (train.fine >= 0.1).mean() >= 0.05
