import pytest

from prelib.data.benchmark_config import BenchmarkConfig, check_kind, load_benchmark_config


def test_paper_profile_has_the_papers_split_sizes():
    cfg = load_benchmark_config("paper")
    assert [cfg.size("swath", s) for s in ("train", "val", "test")] == [2281, 279, 1037]
    assert [cfg.size("fulldisc", s) for s in ("train", "val", "test")] == [6220, 754, 12819]


def test_tiny_is_smaller_than_demo_and_overrides_win():
    tiny, demo = load_benchmark_config("tiny"), load_benchmark_config("demo")
    assert tiny.size("swath", "train") < demo.size("swath", "train") < 2281
    assert load_benchmark_config("tiny", seed=7, workers=None).seed == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("swath_train", 0),
        ("fulldisc_val", -3),
        ("min_wet_fraction", 1.5),
        ("workers", 0),
        ("seed", -1),
        ("regimes", ["monsoon"]),
        ("max_attempts", 0),
    ],
)
def test_bad_values_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        BenchmarkConfig(**{field: value})


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="profile"):
        load_benchmark_config("huge")
    with pytest.raises(ValueError, match="kind"):
        check_kind("grid")
    with pytest.raises(ValueError, match="split"):
        BenchmarkConfig().size("swath", "holdout")
    with pytest.raises(ValueError, match="unknown field"):
        load_benchmark_config("tiny", n_train=3)


def test_regimes_list_becomes_tuple():
    assert BenchmarkConfig(regimes=["frontal", "convective"]).regimes == ("frontal", "convective")
