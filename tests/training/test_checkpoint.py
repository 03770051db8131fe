"""Checkpoints: header, safe loading, refusal of other models/profiles and corrupted files."""

from __future__ import annotations

import pytest
import torch

from prelib import __version__
from prelib.training.checkpoint import (
    load_checkpoint,
    load_model_weights,
    make_header,
    save_checkpoint,
    strip_ddp_prefix,
)
from prelib.training.random_state import capture_global_rng, restore_global_rng


def _save(tmp_path, model_name="prenet", profile="tiny"):
    model = torch.nn.Linear(3, 2)
    header = make_header(model_name, profile, {"lr": 1e-3, "sizes": (1, 2)}, epoch=4)
    path = save_checkpoint(tmp_path / "ck.pt", {"header": header, "model": model.state_dict()})
    return model, path


def test_header_round_trip_with_weights_only_loading(tmp_path):
    model, path = _save(tmp_path)
    payload = load_checkpoint(path, model_name="prenet", profile="tiny")
    header = payload["header"]
    assert header["prelib_version"] == __version__
    assert header["config"] == {"lr": 1e-3, "sizes": [1, 2]}
    assert header["epoch"] == 4
    fresh = torch.nn.Linear(3, 2)
    load_model_weights(fresh, path, "prenet", "tiny")
    assert torch.equal(fresh.weight, model.weight)
    assert not list(tmp_path.glob(".ck.pt.tmp-*"))  # atomic write left no temporary file


def test_other_model_or_profile_is_refused(tmp_path):
    _, path = _save(tmp_path)
    with pytest.raises(ValueError, match="model_name='prenet', expected 'teacher'"):
        load_checkpoint(path, model_name="teacher")
    with pytest.raises(ValueError, match="profile='tiny', expected 'paper'"):
        load_checkpoint(path, profile="paper")
    with pytest.raises(ValueError, match="do not fit the model"):
        load_model_weights(torch.nn.Linear(4, 2), path)


def test_corrupted_and_foreign_files_are_refused(tmp_path):
    _, path = _save(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted"):
        load_checkpoint(path)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="not a prelib checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="header"):
        save_checkpoint(tmp_path / "x.pt", {"model": {}})


def test_rng_state_round_trip_and_ddp_prefix():
    import random

    import numpy as np

    state = capture_global_rng()
    first = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    restore_global_rng(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first  # noqa: NPY002
    assert set(strip_ddp_prefix({"module.a": 1, "module.b": 2})) == {"a", "b"}
