"""The run's benchmark stores and the data loaders of a training stage.

:func:`ensure_benchmarks` builds the synthetic Swath-MPR / Full-IPR stores a run needs when they
are missing (same seed, same bytes) and returns their paths; :class:`BenchmarkData` hands a
stage its training and validation loaders, from those stores or from samples generated on the
fly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prelib import conventions as cv
from prelib.config import RunConfig
from prelib.workflow.artefacts import RunLayout

SOURCES: tuple[str, ...] = ("build", "auto", "simulated")
"""Where :class:`BenchmarkData` takes samples from (or a folder of ``<kind>_<split>.zarr``)."""


def ensure_benchmarks(
    cfg: RunConfig,
    layout: RunLayout,
    kinds: Iterable[str] = ("swath", "fulldisc"),
    splits: Iterable[str] = cv.SPLITS,
    progress: bool = False,
) -> dict[tuple[str, str], Path]:
    """Build the missing benchmark stores of ``cfg`` in ``layout.data_dir``; return all paths.

    Parameters
    ----------
    cfg : RunConfig
        Its ``data`` section sets the benchmark sizes and seed; its ``profile`` names the
        stores' folder.
    layout : RunLayout
    kinds, splits : iterables of str
        ``swath`` / ``fulldisc`` and ``train`` / ``val`` / ``test``.
    progress : bool
        Show the builder's progress bar.

    Returns
    -------
    dict
        ``(kind, split)`` → path of the Zarr store.
    """
    from prelib.data.build.synthetic import build_benchmark

    stores = {}
    for kind in kinds:
        for split in splits:
            path = layout.benchmark(kind, split, cfg)
            if not path.exists():
                build_benchmark(kind, split, cfg, out=path, progress=progress)
            stores[kind, split] = path
    return stores


class BenchmarkData:
    """Datasets and loaders of one run, for the training stages of :mod:`prelib.workflow.stages`.

    Parameters
    ----------
    cfg : RunConfig
    layout : RunLayout
    source : str
        ``"build"`` (build missing stores, then read them), ``"auto"`` (the store when built,
        else samples generated on the fly), ``"simulated"`` (on the fly only) or a folder holding
        ``<kind>_<split>.zarr``.
    validation : bool
        ``False`` trains without a validation split (``--no-validation``): the stages' loaders
        then give ``None`` for validation and ``best.pt`` is selected on the training metrics.
    """

    def __init__(
        self, cfg: RunConfig, layout: RunLayout, source: str = "build", validation: bool = True
    ) -> None:
        if source not in SOURCES and not Path(source).is_dir():
            raise ValueError(
                f"data source must be one of {list(SOURCES)} or an existing folder, got {source!r}"
            )
        self.cfg, self.layout, self.source = cfg, layout, source
        self.validation = validation
        self._datasets: dict[tuple[str, str], Any] = {}

    def dataset(self, kind: str, split: str):
        """The :class:`~prelib.data.datasets.BenchmarkDataset` of ``kind`` and ``split``."""
        from prelib.data.datasets import BenchmarkDataset

        key = (kind, split)
        if key in self._datasets:
            return self._datasets[key]
        cfg = self.cfg
        if self.source == "simulated":
            dataset = BenchmarkDataset.simulated(kind, split, cfg)
        elif self.source in ("build", "auto"):
            path = self.layout.benchmark(kind, split, cfg)
            if self.source == "build":
                ensure_benchmarks(cfg, self.layout, (kind,), (split,))
            if path.exists():
                dataset = BenchmarkDataset.from_zarr(path, kind)
            else:
                dataset = BenchmarkDataset.simulated(kind, split, cfg)
        else:
            path = Path(self.source) / f"{kind}_{split}.zarr"
            if not path.exists():
                raise FileNotFoundError(f"no {kind} {split} store at {path}")
            dataset = BenchmarkDataset.from_zarr(path, kind)
        self._datasets[key] = dataset
        return dataset

    def loader(self, kind: str, split: str, batch_size: int, shuffle: bool = False, seed: int = 0):
        """A DataLoader over :meth:`dataset`."""
        from prelib.data.datasets import make_dataloader

        workers = self.cfg.training.teacher.num_workers
        return make_dataloader(
            self.dataset(kind, split), batch_size, shuffle=shuffle, num_workers=workers, seed=seed
        )

    def loaders(self, kind: str, config) -> tuple[Any, Any]:
        """Training (shuffled with ``config.seed``) and validation loaders of a stage.

        ``config`` is the stage's :class:`~prelib.training.config.TrainingConfig` (batch size,
        workers, seed).
        """
        from prelib.data.datasets import make_dataloader

        train = make_dataloader(
            self.dataset(kind, "train"),
            config.batch_size,
            shuffle=True,
            num_workers=config.num_workers,
            seed=config.seed,
        )
        if not self.validation:
            return train, None
        val = make_dataloader(
            self.dataset(kind, "val"), config.batch_size, num_workers=config.num_workers
        )
        return train, val
