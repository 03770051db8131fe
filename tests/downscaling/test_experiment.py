"""End to end at a toy size: train every model, evaluate, save and reload checkpoints."""

import argparse

import numpy as np
import pytest

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


def test_cli_arguments():
    from prelib.downscaling.commands import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["evaluate", "--profile", "tiny", "--data", "mrms", "--members", "4"])
    assert (args.action, args.data, args.members) == ("evaluate", "mrms", 4)
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "--data", "imerg"])
