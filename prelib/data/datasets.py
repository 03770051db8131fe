"""torch datasets and data loaders for Swath-MPR and Full-IPR, from Zarr or on the fly.

:class:`BenchmarkDataset` is one map-style dataset for both benchmarks and both sources:

* :meth:`BenchmarkDataset.from_zarr` reads a store written by :mod:`prelib.data.store` (synthetic
  or real) straight through Zarr, one chunk per item, opened lazily in each worker process;
* :meth:`BenchmarkDataset.simulated` generates the *same* samples on the fly from the sample
  plan (:func:`prelib.data.samples.generate_sample`): item ``i`` equals item ``i`` of the store
  built with the same profile and seed, so a GPU run can be fed by many ``DataLoader`` workers
  without materialising anything.

Items are dicts of tensors (see :mod:`prelib.data.transforms` for normalisation, fills and
masks): ``ir`` (8, H, W), ``pmw`` (13, H, W) and ``pr`` (176, H, W) (swath only), ``geo``
(3, H, W), ``precip`` (H, W) with NaN → 0, ``valid`` (H, W) bool, ``rain`` (H, W) long,
``input_valid`` (H, W) bool and ``index``.

Items are pure functions of their index — no per-worker random state is used — so a
``DataLoader`` with any number of workers yields the same batches as one without workers.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from prelib.config import RunConfig
from prelib.conventions import (
    GEO_CHANNELS,
    VAR_IR,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
)
from prelib.data.benchmark_config import (
    BenchmarkConfig,
    benchmark_section,
    check_kind,
    check_split,
)
from prelib.data.transforms import sample_to_arrays

RAW_VARIABLES: dict[str, tuple[str, ...]] = {
    "swath": (VAR_IR, VAR_PMW, VAR_PR, VAR_PRECIP, *GEO_CHANNELS),
    "fulldisc": (VAR_IR, VAR_PRECIP, *GEO_CHANNELS),
}
"""Raw variables read for one item of each benchmark kind."""


class _ZarrSamples:
    """Reads raw samples from a store; the Zarr group is opened once per process."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind
        self._group, self._pid = None, None
        group = self._open()
        self.length = int(group[VAR_PRECIP].shape[0])
        for name in RAW_VARIABLES[kind]:
            if name not in group:
                raise ValueError(f"{path}: missing variable {name!r} of a {kind} benchmark")
            packed = {"scale_factor", "add_offset"} & set(group[name].attrs)
            if packed:
                raise ValueError(
                    f"{path}: variable {name!r} is packed ({sorted(packed)}); "
                    "benchmark stores hold physical values"
                )

    def _open(self):
        if self._group is None or self._pid != os.getpid():
            import zarr

            self._group, self._pid = zarr.open_group(str(self.path), mode="r"), os.getpid()
        return self._group

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_group": None, "_pid": None}

    def read(self, index: int) -> dict[str, np.ndarray]:
        group = self._open()
        return {name: np.asarray(group[name][index]) for name in RAW_VARIABLES[self.kind]}


class _SimulatedSamples:
    """Generates raw samples from the sample plan (same as the Zarr store's)."""

    def __init__(self, kind: str, split: str, config, length: int):
        self.kind, self.split, self.config, self.length = kind, split, config, length

    def read(self, index: int) -> dict[str, np.ndarray]:
        from prelib.data.samples import generate_sample

        sample, _ = generate_sample(self.kind, self.split, index, self.config)
        return {name: np.asarray(sample[name].values) for name in RAW_VARIABLES[self.kind]}


class BenchmarkDataset(Dataset):
    """Map-style torch dataset of Swath-MPR or Full-IPR samples.

    Build it with :meth:`from_zarr` or :meth:`simulated`.

    Attributes
    ----------
    kind : str
        ``"swath"`` or ``"fulldisc"``.
    """

    def __init__(self, reader: _ZarrSamples | _SimulatedSamples):
        self._reader = reader
        self.kind = reader.kind

    @classmethod
    def from_zarr(cls, path: str | os.PathLike, kind: str | None = None) -> BenchmarkDataset:
        """A dataset over a benchmark store (schema-checked on opening).

        Parameters
        ----------
        path : path-like
            Store written by :func:`prelib.data.store.write_benchmark`.
        kind : {"swath", "fulldisc"}, optional
            Default: the store's ``benchmark_kind`` attribute.
        """
        from prelib.data.store import open_benchmark

        path = Path(path)
        with open_benchmark(path, kind) as ds:
            kind = ds.attrs.get("benchmark_kind", kind) if kind is None else kind
        return cls(_ZarrSamples(path, check_kind(kind)))

    @classmethod
    def simulated(
        cls,
        kind: str,
        split: str,
        config: RunConfig | BenchmarkConfig | str,
        n_samples: int | None = None,
        **overrides: object,
    ) -> BenchmarkDataset:
        """A dataset that generates its samples on the fly (nothing stored).

        Parameters
        ----------
        kind : {"swath", "fulldisc"}
        split : {"train", "val", "test"}
        config : RunConfig or BenchmarkConfig
            The run (:func:`prelib.config.resolve`) or its data section: split sizes, seed and
            dry-patch filtering. A profile name is deprecated.
        n_samples : int, optional
            Override the split size.
        **overrides
            :class:`~prelib.data.benchmark_config.BenchmarkConfig` fields (``seed`` …).
        """
        check_kind(kind)
        check_split(split)
        config, _ = benchmark_section(config, "BenchmarkDataset.simulated(...)", overrides)
        length = config.size(kind, split) if n_samples is None else n_samples
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ValueError(f"n_samples must be a positive integer, got {length!r}")
        return cls(_SimulatedSamples(kind, split, config, length))

    @property
    def is_simulated(self) -> bool:
        """True when items are generated on the fly."""
        return isinstance(self._reader, _SimulatedSamples)

    def __len__(self) -> int:
        return self._reader.length

    def raw(self, index: int) -> dict[str, np.ndarray]:
        """The physical-unit arrays of item ``index`` (before normalisation)."""
        return self._reader.read(self._check_index(index))

    def _check_index(self, index: int) -> int:
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} samples")
        return index

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | int]:
        index = self._check_index(index)
        arrays = sample_to_arrays(self._reader.read(index), self.kind)
        item: dict[str, torch.Tensor | int] = {k: torch.from_numpy(v) for k, v in arrays.items()}
        item["index"] = index
        return item


def worker_init_fn(worker_id: int) -> None:
    """Seed Python's and NumPy's generators in a ``DataLoader`` worker and use one thread.

    torch seeds each worker with ``base_seed + worker_id``; the other libraries are not seeded
    by torch, so two workers would otherwise share NumPy's global stream (a classic source of
    duplicated "random" augmentations). Items of :class:`BenchmarkDataset` do not use global
    random state at all; this protects any transform added on top. One intra-op thread per
    worker avoids oversubscribing the cores when many workers run.
    """
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (legacy global state, for third-party code)
    torch.set_num_threads(1)


def _preload_world() -> None:
    """Load the world's static data (land mask, DEM) before forking workers so that they share
    it copy-on-write (≈ 1 GB per worker saved)."""
    from prelib.sim.geography import land_mask
    from prelib.sim.terrain import default_dem

    land_mask(np.zeros((1, 1)) + 30.0, np.zeros((1, 1)) + 100.0)
    default_dem()


def make_dataloader(
    dataset: BenchmarkDataset,
    batch_size: int = 8,
    shuffle: bool = False,
    num_workers: int = 0,
    seed: int = 0,
    drop_last: bool = False,
    pin_memory: bool = False,
    prefetch_factor: int | None = None,
) -> DataLoader:
    """A ``DataLoader`` with reproducible shuffling and worker-safe seeding.

    Parameters
    ----------
    dataset : BenchmarkDataset
        From :meth:`BenchmarkDataset.from_zarr` or :meth:`BenchmarkDataset.simulated`.
    batch_size : int
        Samples per batch (>= 1).
    shuffle : bool
        Shuffle with a generator seeded by ``seed`` (same order for any ``num_workers``).
    num_workers : int
        Worker processes (>= 0). For on-the-fly training on a GPU, ≈ 16 workers keep up
        with the model (see ``benchmarks/data_build_speed.py``); the world's static data is
        loaded once in the parent and shared with forked workers.
    seed : int
        Seed of the shuffling generator.
    drop_last, pin_memory, prefetch_factor
        As in ``torch.utils.data.DataLoader``.

    Returns
    -------
    torch.utils.data.DataLoader
        Batches are dicts of stacked tensors (``index`` becomes a long tensor).
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    if (
        num_workers > 0
        and isinstance(dataset, BenchmarkDataset)
        and dataset.is_simulated
        and torch.multiprocessing.get_start_method(allow_none=True) in (None, "fork")
        and os.name == "posix"
    ):
        _preload_world()
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        worker_init_fn=worker_init_fn,
        generator=generator,
        drop_last=drop_last,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        prefetch_factor=prefetch_factor if num_workers > 0 else None,
    )
