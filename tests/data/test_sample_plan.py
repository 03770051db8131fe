import numpy as np
import pytest

from prelib.conventions import DOMAIN_LAT, DOMAIN_LON
from prelib.data.sample_plan import is_kept, plan_sample, wet_and_valid_fraction
from prelib.data.splits import split_period


def test_plan_is_reproducible_and_varies_with_index_and_attempt():
    a = plan_sample("fulldisc", "train", 5, 0, seed=3)
    assert a == plan_sample("fulldisc", "train", 5, 0, seed=3)
    assert a != plan_sample("fulldisc", "train", 6, 0, seed=3)
    assert a != plan_sample("fulldisc", "train", 5, 1, seed=3)
    assert a != plan_sample("fulldisc", "train", 5, 0, seed=4)


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_fulldisc_boxes_lie_in_the_domain_on_the_grid_and_in_the_split(split):
    days = split_period("fulldisc", split).days()
    for index in range(40):
        spec = plan_sample("fulldisc", split, index)
        (lat0, lat1), (lon0, lon1) = spec.lat_bounds, spec.lon_bounds
        assert DOMAIN_LAT[0] <= lat0 < lat1 <= DOMAIN_LAT[1]
        assert DOMAIN_LON[0] <= lon0 < lon1 <= DOMAIN_LON[1]
        assert round((lat1 - lat0) / 0.04) == 256 and round((lon1 - lon0) / 0.04) == 256
        assert abs(lat0 / 0.04 - round(lat0 / 0.04)) < 1e-6
        assert np.datetime64(spec.time, "D") in days
        assert spec.time == np.datetime64(spec.time, "h")  # whole hours


def test_swath_centres_keep_a_margin_and_regimes_can_be_forced():
    for index in range(40):
        spec = plan_sample("swath", "test", index, regimes=("orographic",))
        lat, lon = spec.centre
        assert 6.0 <= lat <= 59.0 and 71.0 <= lon <= 149.0
        assert spec.regime == "orographic" and spec.lat_bounds is None
    assert plan_sample("swath", "test", 0).regime is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "grid"}, "kind"),
        ({"split": "dev"}, "split"),
        ({"index": -1}, "index"),
        ({"attempt": 1.5}, "attempt"),
        ({"seed": -2}, "seed"),
    ],
)
def test_bad_plan_requests(kwargs, match):
    args = {"kind": "swath", "split": "train", "index": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        plan_sample(**args)


def test_wet_fraction_counts_only_valid_pixels():
    precip = np.array([[0.0, 0.1, np.nan, 5.0], [np.nan, 0.09, 0.0, 0.0]])
    wet, valid = wet_and_valid_fraction(precip)
    assert wet == pytest.approx(2 / 6) and valid == pytest.approx(6 / 8)
    assert is_kept(precip, 0.3, 0.5) and not is_kept(precip, 0.4, 0.5)
    assert not is_kept(precip, 0.3, 0.8)
    assert not is_kept(np.full((4, 4), np.nan), 0.0, 0.0)
