"""End to end at a toy size: train every model, evaluate, save and reload checkpoints."""

import argparse

import numpy as np
import pytest
import torch

from prelib.downscaling.config import load_downscaling_config
from prelib.downscaling.data import make_pairs
from prelib.downscaling.experiment import MODEL_NAMES, evaluate_models, load_models, train_models


@pytest.fixture(scope="module")
def toy(rain_fields):
    config = load_downscaling_config("tiny", factor=4, patch=16, scene_px=16, n_steps=2)
    train = make_pairs(rain_fields(4, 16, seed=0), 4, config.bias_model())
    test = make_pairs(rain_fields(2, 16, seed=1), 4, config.bias_model(), seed=1)
    return config, train, test


def test_train_evaluate_and_reload(toy, tmp_path):
    config, train, test = toy
    models, history = train_models(config, train, tmp_path)
    assert set(history) == set(MODEL_NAMES)
    table = evaluate_models(config, models, train, test)
    assert {"bilinear", "qm+bilinear", "rainfarm", "precipdiff", "maunet-light-kr"} <= set(
        table.index
    )
    assert np.isfinite(table.loc[list(table.index[1:]), "rmse"]).all()
    assert table.loc["maunet-light", "params"] < table.loc["maunet", "params"]
    reloaded = load_models(config, tmp_path)
    for name in MODEL_NAMES:
        for a, b in zip(models[name].state_dict().values(), reloaded[name].state_dict().values()):
            assert (a == b).all()
    with pytest.raises(ValueError, match="different configuration"):
        load_models(config.replace(seed=5), tmp_path)
    # every network trained through the Trainer: its metrics log stays beside the model, its
    # resumption checkpoints (optimiser state, the teacher of a distillation) do not
    for name in ("maunet", "maunet-light", "maunet-light-kr"):
        assert (tmp_path / "training" / name / "metrics.csv").is_file()
    assert (tmp_path / "training" / "precipdiff" / "downscaling" / "metrics.jsonl").is_file()
    assert not list((tmp_path / "training").rglob("*.pt"))


def test_checkpoints_are_integrity_checked_and_old_ones_ask_for_retraining(toy, tmp_path):
    from prelib.errors import InvalidDataError

    config, train, _ = toy
    train_models(config, train, tmp_path, ("maunet",))
    path = tmp_path / "maunet.pt"
    payload = torch.load(path, weights_only=True)
    assert payload["header"]["model_name"] == "maunet" and "model_sha256" in payload["header"]
    tampered = {**payload, "model": dict(payload["model"])}
    name = next(k for k, v in tampered["model"].items() if v.is_floating_point())
    tampered["model"][name] = tampered["model"][name] + 1.0
    torch.save(tampered, path)
    with pytest.raises(InvalidDataError, match="SHA-256"):
        load_models(config, tmp_path, ("maunet",))
    # a checkpoint of the earlier downscaling format: {"state_dict", "meta"}, no header
    torch.save({"state_dict": payload["model"], "meta": {"config": "{}"}}, path)
    with pytest.raises(ValueError, match=r"older prelib.*retrain"):
        load_models(config, tmp_path, ("maunet",))


def test_cli_arguments():
    from prelib.downscaling.commands import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["evaluate", "--profile", "tiny", "--data", "mrms", "--members", "4"])
    assert (args.action, args.data, args.members) == ("evaluate", "mrms", 4)
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "--data", "imerg"])
