"""One seed of the table experiments: data, resumable training runs, baselines, cached scores.

:class:`ExperimentSession` is an entry point: it resolves the run's configuration once
(:func:`prelib.config.resolve`, with this seed) and owns ``<out_dir>/runs/seed-<seed>/``, a run
folder in the layout of :class:`prelib.workflow.artefacts.RunLayout`. Every network it needs comes
from the workflow layer (:mod:`prelib.workflow.stages`): trained once per seed, a finished run is
not retrained (an interrupted one resumes from its checkpoint), and the network is loaded from
``best.pt`` — the epoch with the best **validation** loss — so that nothing is selected on the
test split. Scores of a table row are
cached as JSON (``scores/<table>/<row>.json``) and a finished row is never recomputed.

Networks are shared between tables: the all-modality teacher serves Tables 2, 3 and 8, the
Stage-I CoMWE student Tables 2–5 and 7, and so on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from prelib.atomic import atomic_path
from prelib.config import RunConfig, resolve
from prelib.evaluation.config import EvaluationConfig, parse_modalities
from prelib.evaluation.scoring import Predictor, score_predictor
from prelib.workflow import (
    RunLayout,
    ensure_adapted,
    ensure_fulldisc_unet,
    ensure_light,
    ensure_student,
    ensure_teacher,
)

SCORING_PROTOCOL: int = 2
"""Version of the scores cached by :meth:`ExperimentSession.score_row` (2 = composition +
classifier scores + validation threshold + sizes); other versions are recomputed."""


class InMemoryDataset(Dataset):
    """Items of ``dataset`` (and its ``raw`` arrays) kept after first use; for small runs."""

    def __init__(self, dataset) -> None:
        self.dataset, self.kind = dataset, dataset.kind
        self._items: dict[int, Any] = {}
        self._raw: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        if index not in self._items:
            self._items[index] = self.dataset[index]
        return self._items[index]

    def raw(self, index: int) -> dict[str, np.ndarray]:
        if index not in self._raw:
            self._raw[index] = self.dataset.raw(index)
        return self._raw[index]


class _Prefix(Dataset):
    """The first ``length`` items of a dataset (keeps ``kind`` and ``raw``)."""

    def __init__(self, dataset, length: int) -> None:
        if length > len(dataset):
            raise ValueError(f"asked for {length} samples, the split has {len(dataset)}")
        self.dataset, self.kind, self.length = dataset, dataset.kind, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} samples")
        return self.dataset[index]

    def raw(self, index: int) -> dict[str, np.ndarray]:
        return self.dataset.raw(index)


class _Loaded:
    """A network already at hand, in the shape of a :class:`~prelib.workflow.stages.StageRun`."""

    def __init__(self, network: torch.nn.Module) -> None:
        self.network = network


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)


class ExperimentSession:
    """Data, trained networks and cached scores of one seed at one profile.

    Parameters
    ----------
    profile : str or RunConfig
        A profile name (``"tiny"``, ``"demo"``, ``"paper"`` …), resolved here with ``seed`` and
        ``training_overrides`` (the session is an entry point), or a resolved run
        (:func:`prelib.config.resolve`), which then takes ``seed``
        (:meth:`~prelib.config.RunConfig.with_seed`) and already holds its training overrides.
    out_dir : path-like
        Root of the evaluation outputs; this seed uses ``out_dir/runs/seed-<seed>``.
    seed : int
        Seed of every training run (weights, shuffling) and of the Table 7 noise.
    data : str
        ``"auto"`` (the profile's benchmark store when built, else generated on the fly),
        ``"simulated"`` or a folder with ``<kind>_<split>.zarr``.
    config : EvaluationConfig, optional
        Default: ``profiles/evaluation.yaml`` at ``profile`` (``run_config.evaluation``).
    training_overrides : dict, optional
        :class:`~prelib.training.config.TrainingConfig` fields applied to every stage (e.g.
        ``{"epochs": 1, "max_steps_per_epoch": 1}`` for smoke runs).
    cache_in_memory : bool
        Keep loaded samples in memory (small splits only).
    show_progress : bool
        tqdm bars of training and scoring.
    """

    def __init__(
        self,
        profile: str | RunConfig,
        out_dir: str | Path,
        seed: int = 0,
        data: str = "auto",
        config: EvaluationConfig | None = None,
        training_overrides: dict[str, Any] | None = None,
        cache_in_memory: bool = False,
        show_progress: bool = True,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.seed, self.data = seed, data
        self.training_overrides = dict(training_overrides or {})
        if isinstance(profile, RunConfig):
            if self.training_overrides:
                raise ValueError(
                    "ExperimentSession: a RunConfig already holds its training settings; "
                    "resolve training_overrides into it (resolve(profile, training=...))"
                )
            self.run_config = profile.with_seed(seed)
        else:
            self.run_config = resolve(profile, seed=seed, training=dict(self.training_overrides))
        self.profile = self.run_config.profile
        if config is not None:
            self.run_config = self.run_config.replace(evaluation=config)
        self.config = self.run_config.evaluation
        self.cache_in_memory, self.show_progress = cache_in_memory, show_progress
        self.out_dir = Path(out_dir)
        self.root = self.out_dir / "runs" / f"seed-{seed}"
        self.layout = RunLayout(self.root)
        self._datasets: dict[tuple[str, str], Any] = {}
        self._networks: dict[str, torch.nn.Module] = {}
        self._baselines: dict[str, Any] = {}

    # -- data ----------------------------------------------------------------------------------
    def dataset(self, kind: str, split: str):
        """The ``kind`` (``swath`` / ``fulldisc``) dataset of ``split``, sized by the config."""
        key = (kind, split)
        if key in self._datasets:
            return self._datasets[key]
        from prelib.data.datasets import BenchmarkDataset
        from prelib.data.store import benchmark_path

        length = {
            "train": self.config.n_train,
            "val": self.config.n_val,
            "test": self.config.n_test,
        }[split]
        if self.data == "simulated":
            path = None
        elif self.data == "auto":
            path = benchmark_path(kind, split, self.run_config)
            path = path if path.exists() else None
        else:
            path = Path(self.data) / f"{kind}_{split}.zarr"
            if not path.exists():
                raise FileNotFoundError(f"no {kind} {split} store at {path}")
        if path is None:
            dataset = BenchmarkDataset.simulated(
                kind, split, self.run_config, n_samples=length or None
            )
        else:
            dataset = BenchmarkDataset.from_zarr(path, kind)
            if length:
                dataset = _Prefix(dataset, length)
        if self.cache_in_memory:
            dataset = InMemoryDataset(dataset)
        self._datasets[key] = dataset
        return dataset

    def loader(self, kind: str, split: str, batch_size: int | None = None):
        """A DataLoader over :meth:`dataset` (shuffled with the seed for ``train``)."""
        from prelib.data.datasets import make_dataloader

        config = self.training_config("teacher")
        size = batch_size or (config.batch_size if split == "train" else self.config.batch_size)
        return make_dataloader(
            self.dataset(kind, split),
            size,
            shuffle=split == "train",
            num_workers=config.num_workers,
            seed=self.seed,
        )

    def loaders(self, kind: str, config=None):
        """Training and validation loaders of ``kind`` (what :mod:`prelib.workflow.stages` asks
        a stage's data for); every stage uses the session's loaders."""
        return self.loader(kind, "train"), self.loader(kind, "val")

    def training_config(self, stage: str):
        """The resolved training settings of ``stage`` (this seed, the session's overrides)."""
        return self.run_config.training.stage(stage)

    # -- networks, from the workflow layer -----------------------------------------------------
    def _ensure(self, key: str, make) -> torch.nn.Module:
        if key not in self._networks:
            self._networks[key] = make().network
        return self._networks[key]

    def _options(self) -> dict[str, Any]:
        return {"data": self, "weights": "best", "show_progress": self.show_progress}

    def teacher(self, task: str, modalities: str = "ir+pmw+pr") -> torch.nn.Module:
        """Stage 0: the teacher of ``task`` on a modality subset (``"+"``-joined)."""
        mods = parse_modalities(modalities)
        return self._ensure(
            f"teacher-{'+'.join(mods)}-{task}",
            lambda: ensure_teacher(self.run_config, self.layout, task, mods, **self._options()),
        )

    def student(self, method: str, task: str, **student_overrides: Any) -> torch.nn.Module:
        """Stage I: the IR-only student of distillation ``method`` for ``task``.

        ``student_overrides`` change the student's PRE-Net config (e.g. ``dawe_mode``) and give
        the run a folder of its own, so that each ablation has its own checkpoint.
        """
        suffix = "".join(f"-{k}={v}" for k, v in sorted(student_overrides.items()))
        return self._ensure(
            f"student-{method}{suffix}-{task}",
            lambda: ensure_student(
                self.run_config,
                self.layout,
                method,
                task,
                student_overrides=student_overrides,
                **self._options(),
            ),
        )

    def adapted(self, variant: str, task: str) -> torch.nn.Module:
        """Stage II: the full-disc network of Table 4's ``variant`` for ``task``."""
        if variant == "comwe_noadapt":  # the Stage-I network itself, not adapted
            return self._ensure(
                f"adapted-{variant}-{task}", lambda: _Loaded(self.student("comwe", task))
            )
        return self._ensure(
            f"adapted-{variant}-{task}",
            lambda: ensure_adapted(self.run_config, self.layout, variant, task, **self._options()),
        )

    def fulldisc_unet(self, task: str) -> torch.nn.Module:
        """The plain UNet trained on full-disc IR only (Table 5's "UNet" row)."""
        return self._ensure(
            f"fulldisc-unet-{task}",
            lambda: ensure_fulldisc_unet(self.run_config, self.layout, task, **self._options()),
        )

    def light(self, task: str, teacher_variant: str | None = None) -> torch.nn.Module:
        """PRE-Net-Light distilled from the Stage-II PRE-Net ``teacher_variant`` (default: Table
        5's ``config.prenet_variant``), from the same checkpoint as that PRE-Net's row scores."""
        variant = teacher_variant or self.config.prenet_variant
        return self._ensure(
            f"light-{variant}-{task}",
            lambda: ensure_light(
                self.run_config,
                self.layout,
                task,
                teacher_variant=variant,
                teacher_weights="best",
                **self._options(),
            ),
        )

    def baseline(self, name: str, kind: str = "fulldisc"):
        """An IR baseline fitted on the ``kind`` training split (saved; reloaded when present)."""
        from prelib.baselines import get_baseline, load_baseline

        key = name if kind == "fulldisc" else f"{kind}-{name}"
        if key in self._baselines:
            return self._baselines[key]
        path = self.root / "baselines" / f"{key}.npz"
        if path.is_file():
            model = load_baseline(path)
        else:
            train = self.dataset(kind, "train")
            raws = [train.raw(i) for i in range(len(train))]
            ir = np.stack([r["ir"] for r in raws]).astype(np.float32)
            precip = np.stack([r["precip"] for r in raws]).astype(np.float32)
            settings: dict[str, Any] = {}
            if name == "gbm":
                settings = {"max_pixels": self.config.baseline_max_pixels, "seed": self.seed}
            elif name == "persiann_ccs":
                settings = {"seed": self.seed}
            model = get_baseline(name, **settings).fit(ir, precip, np.isfinite(precip))
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
        self._baselines[key] = model
        return model

    # -- cached scores -------------------------------------------------------------------------
    def scores_path(self, table: str, row: str) -> Path:
        return self.root / "scores" / _safe(table) / f"{_safe(row)}.json"

    def score_row(
        self,
        table: str,
        row: str,
        make_predictor: Callable[[], Predictor],
        kind: str,
        noise: tuple[str, float] = ("none", 0.0),
    ) -> dict[str, float]:
        """Scores of one table row on the ``kind`` test split, computed once and cached.

        The one protocol of :func:`prelib.evaluation.scoring.score_predictor`; the probability
        threshold of the ``*_pval`` columns is chosen on the ``kind`` validation split.
        """
        path = self.scores_path(table, row)
        if path.is_file():
            cached = json.loads(path.read_text())
            if cached.get("protocol") == SCORING_PROTOCOL:  # older protocols are re-scored
                return {k: (np.nan if v is None else float(v)) for k, v in cached["scores"].items()}
        scores = score_predictor(
            make_predictor(),
            self.loader(kind, "test"),
            threshold=self.config.threshold,
            noise=noise,
            seed=self.seed,
            show_progress=self.show_progress,
            description=f"{table} {row}",
            calibration_loader=self.loader(kind, "val"),
        )
        record = {
            "table": table,
            "row": row,
            "seed": self.seed,
            "profile": self.profile,
            "noise": list(noise),
            "protocol": SCORING_PROTOCOL,
            "scores": {k: (None if np.isnan(v) else v) for k, v in scores.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=1))
        return scores
