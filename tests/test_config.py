"""``prelib.config.resolve``: one run's configuration, resolved once from a profile."""

from __future__ import annotations

import json

import pytest

from prelib.config import RunConfig, config_hash, resolve
from prelib.data.benchmark_config import BenchmarkConfig
from prelib.models.config import ModelConfigs, PRENetConfig, load_model_config
from prelib.training.config import TrainingConfig, load_training_config


def test_resolve_gives_every_section_as_config_objects():
    cfg = resolve("tiny")
    assert isinstance(cfg, RunConfig) and cfg.profile == "tiny"
    assert isinstance(cfg.data, BenchmarkConfig)
    assert isinstance(cfg.models, ModelConfigs) and isinstance(cfg.models.prenet, PRENetConfig)
    assert cfg.models.prenet == load_model_config("prenet", "tiny")
    for stage in ("teacher", "distill", "adapt"):
        assert isinstance(cfg.training.stage(stage), TrainingConfig)
        assert cfg.training.stage(stage) == load_training_config("tiny", stage)
    assert cfg.evaluation.section == "" or cfg.evaluation is not None
    assert cfg.downscaling is not None


def test_seed_device_and_overrides_reach_every_stage():
    cfg = resolve(
        "tiny",
        seed=7,
        device="cpu",
        training={"epochs": 1, "adapt": {"lr": 0.5}},
        models={"prenet": {"mask_ratio": 0.5}},
        data={"seed": 3},
    )
    assert {cfg.training.stage(s).seed for s in ("teacher", "distill", "adapt")} == {7}
    assert {cfg.training.stage(s).device for s in ("teacher", "distill", "adapt")} == {"cpu"}
    assert {cfg.training.stage(s).epochs for s in ("teacher", "distill", "adapt")} == {1}
    assert cfg.training.adapt.lr == 0.5 and cfg.training.teacher.lr != 0.5
    assert cfg.models.prenet.mask_ratio == 0.5
    assert cfg.seed == 7 and cfg.downscaling.seed == 7 and cfg.data.seed == 3
    # the benchmark keeps the data profile's seed unless it is overridden
    assert resolve("tiny", seed=7).data.seed == resolve("tiny").data.seed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"training": {"epochs": 0}}, "epochs"),
        ({"models": {"vae": {}}}, "vae"),
        ({"models": {"prenet": {"widths": 3}}}, "widths"),
        ({"data": {"n_train_swath": -1, "nonsense": 1}}, "nonsense"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        resolve("tiny", **overrides)


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile"):
        resolve("huge")


def test_to_dict_is_plain_and_hash_is_stable_and_sensitive():
    cfg = resolve("tiny", seed=1)
    text = json.dumps(cfg.to_dict())
    assert json.loads(text)["training"]["adapt"]["seed"] == 1
    assert ModelConfigs(**cfg.to_dict()["models"]) == cfg.models  # rebuilt from the dict
    assert config_hash(cfg.to_dict()) == config_hash(resolve("tiny", seed=1).to_dict())
    assert config_hash(cfg.to_dict()) != config_hash(resolve("tiny", seed=2).to_dict())
    assert len(config_hash(cfg.models)) == 16


def test_with_seed_is_what_resolve_gives_for_that_seed():
    overrides = {"epochs": 1, "adapt": {"lr": 1e-4}}
    base = resolve("tiny", training=overrides)
    for seed in (0, 5):
        again = base.with_seed(seed)
        assert again == resolve("tiny", seed=seed, training=overrides)
        assert config_hash(again.to_dict()) == config_hash(
            resolve("tiny", seed=seed, training=overrides).to_dict()
        )
    assert base.with_seed(5).data.seed == base.data.seed  # the benchmark keeps its seed
    with pytest.raises(ValueError, match="seed"):
        base.with_seed(-1)


def test_a_profile_name_below_the_entry_points_warns_once_naming_the_call():
    from prelib.data.datasets import BenchmarkDataset

    with pytest.warns(DeprecationWarning, match=r"BenchmarkDataset\.simulated.*'tiny'") as seen:
        BenchmarkDataset.simulated("swath", "val", "tiny")
    assert len(seen) == 1 and seen[0].filename == __file__  # points at the caller
