"""Project-wide pytest configuration: markers that skip, the shared real-data fixture."""

from __future__ import annotations

import os

import pytest

# Keep test runs reproducible and polite on 2-core machines.
os.environ.setdefault("OMP_NUM_THREADS", "2")


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu`` tests when CUDA is absent (default CI)."""
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def shared_data():
    """The developers' real sample data (``../shared/data``); skips the test when absent."""
    from prelib.paths import shared_data_dir

    path = shared_data_dir()
    if path is None:
        pytest.skip("real sample data (../shared/data or PRELIB_SHARED_DATA) not available")
    return path
