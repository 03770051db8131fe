"""Project-wide pytest configuration: markers that skip, the shared real-data fixture."""

from __future__ import annotations

import os
from pathlib import Path

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


ONE_THREAD_AREAS = frozenset({"baselines", "inference", "models", "training", "workflow"})
"""Test folders whose modules run with one compute thread (:func:`single_thread`)."""


@pytest.fixture(autouse=True, scope="module")
def single_thread(request):
    """One compute thread (torch and the BLAS/OpenMP pools) for the modules of
    :data:`ONE_THREAD_AREAS`: the tiny networks gain nothing from more, and OpenMP pools
    spin-wait badly on shared 2-core machines (measured: the tiny stage tests took 79 s with 2
    threads under load and 7.6 s with 1). Other folders keep the defaults."""
    if Path(str(request.path)).parent.name not in ONE_THREAD_AREAS:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)
