import numpy as np
import pytest

from prelib.sim.seeding import as_datetime64, scene_rng


def test_same_inputs_same_stream_and_inputs_matter():
    a = scene_rng(1, "2021-07-01T06", 30.0, 110.0).random(5)
    b = scene_rng(1, np.datetime64("2021-07-01T06:00"), 30.0, 110.0).random(5)
    np.testing.assert_array_equal(a, b)
    for other in (
        scene_rng(2, "2021-07-01T06", 30.0, 110.0),
        scene_rng(1, "2021-07-01T07", 30.0, 110.0),
        scene_rng(1, "2021-07-01T06", 30.5, 110.0),
        scene_rng(1, "2021-07-01T06", 30.0, 110.0, purpose="ir"),
    ):
        assert not np.array_equal(a, other.random(5))


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        scene_rng(seed, "2021-07-01")


def test_bad_time():
    with pytest.raises(ValueError, match="time"):
        as_datetime64("not a time")
    with pytest.raises(ValueError, match="time"):
        as_datetime64(np.datetime64("NaT"))
