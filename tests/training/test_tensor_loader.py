"""In-memory tensor loaders: dict batches, one permutation per epoch, global RNG untouched."""

from __future__ import annotations

import pytest
import torch

from prelib.training.random_state import capture_loader_rng
from prelib.training.tensor_loader import tensor_loader


def test_batches_follow_one_seeded_permutation_per_epoch():
    x = torch.arange(10.0)[:, None]
    loader = tensor_loader({"x": x, "y": 2 * x}, batch_size=4, shuffle=True, seed=3)
    generator = torch.Generator().manual_seed(3)
    for _ in range(3):  # epochs
        order = torch.randperm(10, generator=generator)
        batches = list(loader)
        assert [len(b["x"]) for b in batches] == [4, 4, 2]
        torch.testing.assert_close(torch.cat([b["x"] for b in batches])[:, 0], order.float())
        assert all(torch.equal(b["y"], 2 * b["x"]) for b in batches)


def test_global_generator_is_not_touched_and_loader_generators_are_saved():
    loader = tensor_loader({"x": torch.rand(6, 2)}, batch_size=2, shuffle=True, seed=0)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    for _ in range(2):
        list(loader)
    torch.testing.assert_close(torch.rand(3), expected)
    assert set(capture_loader_rng(loader)) == {"loader", "sampler"}


def test_sequential_loader_and_bad_inputs():
    x = torch.arange(5.0)
    loader = tensor_loader({"x": x}, batch_size=2, shuffle=False)
    assert [b["x"].tolist() for b in loader] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    with pytest.raises(ValueError, match="same number of samples"):
        tensor_loader({"x": x, "y": torch.zeros(4)}, 2, False)
    with pytest.raises(ValueError, match="batch_size"):
        tensor_loader({"x": x}, 0, False)
