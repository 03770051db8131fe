"""Tiny benchmark stores built once per test session from the real synthetic world."""

from __future__ import annotations

import pytest

from prelib.config import resolve
from prelib.data.build.synthetic import build_benchmark

TINY = resolve("tiny")


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("benchmarks")


@pytest.fixture(scope="session")
def swath_store(store_dir):
    """3 Swath-MPR training samples of the tiny profile."""
    return build_benchmark(
        "swath", "train", TINY, out=store_dir / "swath_train.zarr", progress=False
    )


@pytest.fixture(scope="session")
def fulldisc_store(store_dir):
    """3 Full-IPR training samples of the tiny profile."""
    return build_benchmark(
        "fulldisc", "train", TINY, out=store_dir / "fulldisc_train.zarr", progress=False
    )
