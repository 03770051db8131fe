"""One seed of the table experiments: data, resumable training runs, baselines, cached scores.

:class:`ExperimentSession` owns ``<out_dir>/runs/seed-<seed>/``. Every network it needs is
trained once per seed with :class:`prelib.training.trainer.Trainer` and the stage step
functions of :mod:`prelib.training.stages`, in its own run folder; a run whose ``last.pt``
already reached the configured number of epochs is not retrained (an interrupted one resumes
from its checkpoint), and the network is then loaded from ``best.pt`` — the epoch with the best
**validation** loss — so that nothing is selected on the test split. Scores of a table row are
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
from prelib.evaluation.config import EvaluationConfig, load_evaluation_config, parse_modalities
from prelib.evaluation.scoring import Predictor, score_predictor

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


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)


class ExperimentSession:
    """Data, trained networks and cached scores of one seed at one profile.

    Parameters
    ----------
    profile : {"tiny", "demo", "paper"}
    out_dir : path-like
        Root of the evaluation outputs; this seed uses ``out_dir/runs/seed-<seed>``.
    seed : int
        Seed of every training run (weights, shuffling) and of the Table 7 noise.
    data : str
        ``"auto"`` (the profile's benchmark store when built, else generated on the fly),
        ``"simulated"`` or a folder with ``<kind>_<split>.zarr``.
    config : EvaluationConfig, optional
        Default: ``profiles/evaluation.yaml`` at ``profile``.
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
        profile: str,
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
        self.profile, self.seed, self.data = profile, seed, data
        self.config = config or load_evaluation_config(profile)
        self.training_overrides = dict(training_overrides or {})
        self.cache_in_memory, self.show_progress = cache_in_memory, show_progress
        self.out_dir = Path(out_dir)
        self.root = self.out_dir / "runs" / f"seed-{seed}"
        self._datasets: dict[tuple[str, str], Any] = {}
        self._networks: dict[str, torch.nn.Module] = {}
        self._paths: dict[str, Path] = {}
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
            path = benchmark_path(kind, split, self.profile)
            path = path if path.exists() else None
        else:
            path = Path(self.data) / f"{kind}_{split}.zarr"
            if not path.exists():
                raise FileNotFoundError(f"no {kind} {split} store at {path}")
        if path is None:
            dataset = BenchmarkDataset.simulated(
                kind, split, self.profile, n_samples=length or None
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

    def training_config(self, stage: str, **changes: Any):
        """The training profile of ``stage`` with this seed and the session's overrides."""
        from prelib.training.config import load_training_config

        values = {**self.training_overrides, **changes, "seed": self.seed}
        return load_training_config(self.profile, stage, **values)

    # -- resumable training --------------------------------------------------------------------
    def run_dir(self, name: str) -> Path:
        """Folder of the training run ``name`` (e.g. ``teacher-ir+pmw+pr-reg``)."""
        return self.root / "train" / _safe(name)

    def _train(self, key: str, module, step_fn, kind: str, config, model_name: str) -> Path:
        """Train ``module`` unless its run is finished; load its best-validation weights."""
        from prelib.training.checkpoint import load_checkpoint, strip_ddp_prefix
        from prelib.training.trainer import Trainer

        run_dir = self.run_dir(key)
        last = run_dir / "last.pt"
        finished = False
        if last.is_file():
            header = load_checkpoint(last, model_name=model_name, profile=self.profile)["header"]
            finished = int(header.get("epoch", 0)) >= config.epochs
        if not finished:
            Trainer(
                module,
                step_fn,
                self.loader(kind, "train"),
                config,
                run_dir,
                val_loader=self.loader(kind, "val"),
                model_name=model_name,
                profile=self.profile,
                show_progress=self.show_progress,
            ).fit()
        best = run_dir / "best.pt"
        path = best if best.is_file() else last
        payload = load_checkpoint(path, model_name=model_name, profile=self.profile)
        module.load_state_dict(strip_ddp_prefix(payload["model"]))
        module.eval()
        return path

    def teacher(self, task: str, modalities: str = "ir+pmw+pr") -> torch.nn.Module:
        """Stage 0: the teacher of ``task`` on a modality subset (``"+"``-joined)."""
        from prelib.training import stages

        mods = parse_modalities(modalities)
        key = f"teacher-{'+'.join(mods)}-{task}"
        if key not in self._networks:
            model = stages.build_teacher(self.profile, task, mods)
            name = stages.teacher_name(task, mods)
            self._paths[key] = self._train(
                key,
                model,
                stages.teacher_step_fn(task),
                "swath",
                self.training_config("teacher"),
                name,
            )
            self._networks[key] = model.requires_grad_(False)
        return self._networks[key]

    def student(self, method: str, task: str, **student_overrides: Any) -> torch.nn.Module:
        """Stage I: the IR-only student of distillation ``method`` for ``task``.

        ``student_overrides`` change the student's PRE-Net config (e.g. ``dawe_mode``) and are
        part of the run's name, so that each ablation has its own checkpoint.
        """
        from prelib.models import get_distiller, get_student
        from prelib.training import stages

        suffix = "".join(f"-{k}={v}" for k, v in sorted(student_overrides.items()))
        key = f"student-{method}{suffix}-{task}"
        if key not in self._networks:
            n_classes = 1 if task == "reg" else 2
            student = get_student(method, self.profile, n_classes=n_classes, **student_overrides)
            pair = stages.DistillationPair(student, get_distiller(method, self.profile), task)
            teacher = self.teacher(task) if pair.distiller.needs_teacher else None
            name = stages.student_name(method, task) + suffix
            self._paths[key] = self._train(
                key,
                pair,
                stages.distill_step_fn(teacher),
                "swath",
                self.training_config("distill"),
                name,
            )
            self._networks[key] = student.requires_grad_(False)
        return self._networks[key]

    def adapted(self, variant: str, task: str) -> torch.nn.Module:
        """Stage II: the full-disc network of Table 4's ``variant`` for ``task``."""
        from prelib.training import stages

        key = f"adapted-{variant}-{task}"
        if key in self._networks:
            return self._networks[key]
        if variant == "comwe_noadapt":
            self._networks[key] = self.student("comwe", task)
            return self._networks[key]
        stage1 = None
        if variant != "scratch":
            source = "kd" if variant == "kd_nonmask" else "comwe"
            self.student(source, task)
            stage1 = self._paths[f"student-{source}-{task}"]
        model, strategy = stages.build_adaptation_model(variant, self.profile, task, stage1)
        config = self.training_config("adapt")
        config = config.replace(masktune=config.masktune.replace(strategy=strategy))
        self._paths[key] = self._train(
            key,
            model,
            stages.adaptation_step_fn(task, config.masktune.target),
            "fulldisc",
            config,
            stages.adapted_name(variant, task),
        )
        self._networks[key] = model.requires_grad_(False)
        return model

    def fulldisc_unet(self, task: str) -> torch.nn.Module:
        """The plain UNet trained on full-disc IR only (Table 5's "UNet" row)."""
        from prelib.models import get_model
        from prelib.training import stages

        key = f"fulldisc-unet-{task}"
        if key not in self._networks:
            model = get_model("unet", self.profile, n_classes=1 if task == "reg" else 2)
            self._paths[key] = self._train(
                key,
                model,
                stages.adaptation_step_fn(task),
                "fulldisc",
                self.training_config("adapt"),
                f"fulldisc:unet:{task}",
            )
            self._networks[key] = model.requires_grad_(False)
        return self._networks[key]

    def baseline(self, name: str, kind: str = "fulldisc"):
        """An IR baseline fitted on the ``kind`` training split (saved; reloaded when present)."""
        from prelib.baselines import get_baseline, load_baseline

        key = name if kind == "fulldisc" else f"{kind}-{name}"
        if key in self._baselines:
            return self._baselines[key]
        path = self.root / "baselines" / f"{key}.{'joblib' if name == 'gbm' else 'npz'}"
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
