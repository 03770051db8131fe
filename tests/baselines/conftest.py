"""One compute thread per test here: OpenMP pools spin-wait badly on the shared 2-core machines
(measured: the tiny stage tests took 79 s with 2 threads under load and 7.6 s with 1)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)
