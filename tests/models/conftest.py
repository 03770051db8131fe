"""Fixtures of the model tests: tiny networks and fixed random batches."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def swath_ir():
    """A fixed batch of 2 normalised IR swath patches, (2, 8, 256, 49)."""
    return torch.rand(2, 8, 256, 49, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def small_ir():
    """A fixed batch of 2 small IR tiles with an odd width, (2, 8, 64, 49)."""
    return torch.rand(2, 8, 64, 49, generator=torch.Generator().manual_seed(3))


@pytest.fixture
def swath_teacher_inputs():
    """Fixed teacher inputs for 2 swath patches (ir, pmw, pr, geo), 256 × 49."""
    return _teacher_inputs((256, 49))


@pytest.fixture
def small_teacher_inputs():
    """Fixed teacher inputs for 2 small tiles (ir, pmw, pr, geo), 64 × 49."""
    return _teacher_inputs((64, 49))


def _teacher_inputs(shape: tuple[int, int]) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(2)
    return {
        "ir": torch.rand(2, 8, *shape, generator=gen),
        "pmw": torch.rand(2, 13, *shape, generator=gen),
        "pr": torch.rand(2, 176, *shape, generator=gen),
        "geo": torch.rand(2, 3, *shape, generator=gen),
    }
