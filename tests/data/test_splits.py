import numpy as np
import pytest

from prelib.data.splits import split_of_time, split_period


@pytest.mark.parametrize("kind", ["swath", "fulldisc"])
def test_splits_are_disjoint_in_time(kind):
    days = {s: split_period(kind, s).days() for s in ("train", "val", "test")}
    assert all(len(d) > 0 for d in days.values())
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not np.intersect1d(days[a], days[b]).size, (a, b)


def test_fulldisc_periods_follow_the_paper():
    train, val, test = (split_period("fulldisc", s) for s in ("train", "val", "test"))
    assert str(train.days()[0]) == "2022-01-01" and str(train.days()[-1]) == "2022-10-31"
    assert str(val.days()[0]) == "2022-11-01" and str(val.days()[-1]) == "2022-12-31"
    assert len(test.days()) == 365 and str(test.days()[0]) == "2023-01-01"


def test_swath_validation_weeks_cover_the_seasons():
    val = split_period("swath", "val").days()
    train = split_period("swath", "train").days()
    assert 0.09 < len(val) / (len(val) + len(train)) < 0.13  # paper: 279 / 2560 ≈ 0.109
    seasons = {(int(str(d)[5:7]) % 12) // 3 for d in val}  # DJF, MAM, JJA, SON
    assert seasons == {0, 1, 2, 3}
    assert all(str(d).startswith("2021") for d in np.concatenate([val, train]))
    assert all(str(d).startswith("2022") for d in split_period("swath", "test").days())


def test_split_of_time():
    assert split_of_time("fulldisc", "2022-12-05T03:00") == "val"
    assert split_of_time("fulldisc", "2023-06-01") == "test"
    assert split_of_time("fulldisc", "2020-01-01") is None
