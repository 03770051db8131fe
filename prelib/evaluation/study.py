"""The settling study: which recipe choices make PRE-Net's claims hold or fail, measured.

``prelib study`` trains and scores a grid of networks at one profile (``study`` by default),
seeded and resumable, with the one scoring protocol of :mod:`prelib.evaluation.scoring`
(two-network composition, threshold-free classifier scores, CSI at a validation-chosen
probability threshold, test-set size) on the validation *and* the test split of every row:

* ``balance`` — the Stage-I loss balance: the IR-only UNet (no KD) vs CoMWE under weighting
  ∈ {paper, code, gradnorm} × gradient clipping ∈ {1, off}; the setting with the best mean
  validation CSI becomes the default of the other groups (picked on validation, reported on
  test);
* ``table2`` — RMKD only, DAWE only (MKD + DAWE), both (CoMWE);
* ``table3`` — UNet, KD, MGD, MKD, RMKD, CoMWE;
* ``table4`` — from scratch, KD + Non-MaskTune, CoMWE without adaptation / + Non- / Rand- /
  Self-MaskTune (frozen modules in eval mode, mask on the AE only), Self-MaskTune with the
  reference code's mask target (``ae+conv``) and with AdaBN;
* ``visible`` — Self-MaskTune at visible fractions 0.25 / 0.5 / 0.75;
* ``light`` — PRE-Net-Light (beyond the paper) against its teacher, the Self-MaskTune PRE-Net
  (issue 16's goal: ≤ 3 % relative CSI loss on the Full-IPR test split over 3 seeds);
* every group has the per-pixel gradient-boosting baseline (GBM) as a row.

A setting is configuration (``cfg.models.distill``, ``cfg.training.distill/adapt``); the networks
come from the workflow layer in a keyed run layout, ``<out>/runs/seed-<seed>/models/<network>/
<task>-<config hash>``, so every setting that changes a run gets its own folder and the teacher,
whose configuration no setting changes, is shared by all of them. Scores are cached under
``<out>/runs/seed-<seed>/scores/<setting hash>/``. Re-running the same command skips everything
done.

Outputs in ``<out>``: ``study_scores.csv`` (one line per row × seed × split),
``study_<group>.md/.csv`` (mean ± std over seeds on test, with the validation CSI),
``convergence.csv`` (per training run: first / best / last validation loss and a plateau flag),
``study.md`` (everything, with the chosen default and the test-set sizes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from prelib.atomic import atomic_path
from prelib.config import resolve
from prelib.evaluation.report import summarise, to_markdown
from prelib.evaluation.scoring import (
    CLASSIFIER_SCORES,
    SIZE_COLUMNS,
    VALIDATION_THRESHOLD_SCORES,
    baseline_predictor,
    score_predictor,
    two_network_predictor,
)
from prelib.evaluation.session import ExperimentSession
from prelib.workflow import RunLayout, run_folder

GROUPS: tuple[str, ...] = ("balance", "table2", "table3", "table4", "visible", "light")
SCORE_COLUMNS: tuple[str, ...] = (
    "rmse",
    "cc",
    "pod",
    "far",
    "csi",
    *VALIDATION_THRESHOLD_SCORES,
    *CLASSIFIER_SCORES,
    *SIZE_COLUMNS,
)
TABLE_COLUMNS: tuple[str, ...] = ("rmse", "cc", "pod", "far", "csi", "csi_pval", "ce", "auc")
PLATEAU_TOLERANCE: float = 0.02
"""A run has plateaued when the best validation loss of its last third of epochs improves on
the best before it by less than this fraction."""


@dataclasses.dataclass(frozen=True)
class StudySetting:
    """The recipe choices a study row may change.

    Attributes
    ----------
    weighting : {"paper", "code", "gradnorm"}
        Stage-I loss weighting (:class:`~prelib.models.config.DistillConfig`).
    grad_clip : float
        Stage-I global gradient-norm clip (0 = off).
    standardise_teacher : bool
        Per-channel standardised teacher features in Stage I.
    mask_target : {"ae", "ae+conv"}
        What the Stage-II mask hides.
    adabn : bool
        Stage II re-estimates the frozen BatchNorm statistics.
    visible_fraction : float
        Stage-II ``mask_ratio`` (Self-MaskTune: fraction of cells kept visible).
    """

    weighting: str = "paper"
    grad_clip: float = 1.0
    standardise_teacher: bool = False
    mask_target: str = "ae"
    adabn: bool = False
    visible_fraction: float = 0.25

    def stage1(self) -> dict[str, Any]:
        return {
            "weighting": self.weighting,
            "grad_clip": float(self.grad_clip),
            "standardise_teacher": bool(self.standardise_teacher),
        }

    def stage2(self) -> dict[str, Any]:
        return {
            **self.stage1(),
            "mask_target": self.mask_target,
            "adabn": bool(self.adabn),
            "visible_fraction": float(self.visible_fraction),
        }

    def models_overrides(self) -> dict[str, dict[str, Any]]:
        """Model-section overrides of the setting (``resolve(models=...)``)."""
        return {
            "distill": {
                "weighting": self.weighting,
                "standardise_teacher": bool(self.standardise_teacher),
            }
        }

    def training_overrides(self) -> dict[str, dict[str, Any]]:
        """Per-stage training overrides of the setting (``resolve(training=...)``)."""
        return {
            "distill": {"grad_clip": float(self.grad_clip)},
            "adapt": {
                "adabn": bool(self.adabn),
                "masktune": {
                    "target": self.mask_target,
                    "mask_ratio": float(self.visible_fraction),
                },
            },
        }

    def label(self) -> str:
        clip = "off" if not self.grad_clip else f"{self.grad_clip:g}"
        return f"{self.weighting}, clip {clip}"


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _hash(values: dict[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


@dataclasses.dataclass(frozen=True)
class StudyRow:
    """One row of the study grid.

    Attributes
    ----------
    group, key, label : str
        Group (:data:`GROUPS`), unique key within the group, printed label.
    kind : {"swath", "fulldisc"}
        Which benchmark it is scored on.
    what : str
        ``"student:<method>"``, ``"adapted:<variant>"``, ``"light:<teacher variant>"`` or
        ``"gbm"``.
    setting : StudySetting or None
        ``None``: the default chosen on validation by the ``balance`` group. Outside the
        ``balance`` group only the fields that differ from :class:`StudySetting`'s defaults
        count; the rest come from the chosen default (:func:`row_setting`).
    student_overrides : tuple of (str, value)
        PRE-Net config overrides of a student (e.g. ``dawe_mode``).
    """

    group: str
    key: str
    label: str
    kind: str
    what: str
    setting: StudySetting | None = None
    student_overrides: tuple[tuple[str, Any], ...] = ()


def row_setting(row: StudyRow, default: StudySetting) -> StudySetting:
    """The setting ``row`` is trained under when ``default`` is the chosen default.

    A ``balance`` row is its own setting (the paper's without one). Any other row runs under
    ``default`` with the fields its own setting changes (e.g. the Stage-II mask target), so that
    a Stage-II comparison starts from the same Stage-I network as the default rows.
    """
    if row.group == "balance":
        return row.setting or StudySetting()
    if row.setting is None:
        return default
    base = StudySetting()
    changes = {
        f.name: getattr(row.setting, f.name)
        for f in dataclasses.fields(StudySetting)
        if getattr(row.setting, f.name) != getattr(base, f.name)
    }
    return dataclasses.replace(default, **changes)


def study_rows(groups: Sequence[str] = GROUPS) -> list[StudyRow]:
    """The study grid of ``groups`` (see the module docstring)."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"study groups are {list(GROUPS)}, got {unknown}")
    rows: list[StudyRow] = []
    if "balance" in groups:
        rows.append(StudyRow("balance", "unet", "UNet (no KD)", "swath", "student:none"))
        for weighting in ("paper", "code", "gradnorm"):
            for clip in (1.0, 0.0):
                setting = StudySetting(weighting=weighting, grad_clip=clip)
                rows.append(
                    StudyRow(
                        "balance",
                        f"comwe-{weighting}-clip{clip:g}",
                        f"CoMWE ({setting.label()})",
                        "swath",
                        "student:comwe",
                        setting,
                    )
                )
        rows.append(StudyRow("balance", "gbm", "GBM (IR, per pixel)", "swath", "gbm"))
    if "table2" in groups:
        rows += [
            StudyRow("table2", "rmkd", "RMKD ✓ / DAWE ×", "swath", "student:rmkd"),
            StudyRow(
                "table2",
                "mkd+dawe",
                "RMKD × / DAWE ✓",
                "swath",
                "student:mkd",
                student_overrides=(("dawe_mode", "prelib"),),
            ),
            StudyRow("table2", "comwe", "RMKD ✓ / DAWE ✓ (CoMWE)", "swath", "student:comwe"),
            StudyRow("table2", "gbm", "GBM (IR, per pixel)", "swath", "gbm"),
        ]
    if "table3" in groups:
        names = {
            "none": "UNet (no KD)",
            "kd": "KD",
            "mgd": "MGD",
            "mkd": "MKD",
            "rmkd": "RMKD",
            "comwe": "CoMWE",
        }
        rows += [
            StudyRow("table3", m, label, "swath", f"student:{m}") for m, label in names.items()
        ]
        rows.append(StudyRow("table3", "gbm", "GBM (IR, per pixel)", "swath", "gbm"))
    if "table4" in groups:
        names = {
            "scratch": "From scratch (PRE-Net, full-disc IR)",
            "kd_nonmask": "KD + Non-MaskTune",
            "comwe_noadapt": "CoMWE, no adaptation",
            "nonmask": "CoMWE + Non-MaskTune",
            "randmask": "CoMWE + Rand-MaskTune",
            "selfmask": "CoMWE + Self-MaskTune",
        }
        rows += [
            StudyRow("table4", v, label, "fulldisc", f"adapted:{v}") for v, label in names.items()
        ]
        rows += [
            StudyRow(
                "table4",
                "selfmask-aeconv",
                "CoMWE + Self-MaskTune, mask on AE + conv (reference code)",
                "fulldisc",
                "adapted:selfmask",
                dataclasses.replace(StudySetting(), mask_target="ae+conv"),
            ),
            StudyRow(
                "table4",
                "selfmask-adabn",
                "CoMWE + Self-MaskTune, BatchNorm re-estimated (AdaBN)",
                "fulldisc",
                "adapted:selfmask",
                dataclasses.replace(StudySetting(), adabn=True),
            ),
            StudyRow("table4", "gbm", "GBM (IR, per pixel)", "fulldisc", "gbm"),
        ]
    if "visible" in groups:
        for fraction in (0.25, 0.5, 0.75):
            rows.append(
                StudyRow(
                    "visible",
                    f"selfmask-visible{fraction:g}",
                    f"Self-MaskTune, {fraction:.0%} of cells visible",
                    "fulldisc",
                    "adapted:selfmask",
                    dataclasses.replace(StudySetting(), visible_fraction=fraction),
                )
            )
    if "light" in groups:
        rows += [
            StudyRow(
                "light",
                "selfmask",
                "PRE-Net (CoMWE + Self-MaskTune)",
                "fulldisc",
                "adapted:selfmask",
            ),
            StudyRow(
                "light",
                "prenet_light",
                "PRE-Net-Light (distilled from the Self-MaskTune PRE-Net)",
                "fulldisc",
                "light:selfmask",
            ),
            StudyRow("light", "gbm", "GBM (IR, per pixel)", "fulldisc", "gbm"),
        ]
    return rows


class _SlimCache(Dataset):
    """Items of a scoring split kept in memory without the teacher-only modalities."""

    KEEP = ("ir", "precip", "valid", "input_valid", "rain", "index")

    def __init__(self, dataset) -> None:
        self.dataset, self.kind = dataset, dataset.kind
        self._items: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        if index not in self._items:
            item = self.dataset[index]
            self._items[index] = {k: v for k, v in item.items() if k in self.KEEP}
        return self._items[index]

    def raw(self, index: int):
        return self.dataset.raw(index)


_POOL_DATASET: Any = None


def _pool_item(index: int) -> dict[str, np.ndarray]:
    item = _POOL_DATASET[index]
    return {k: (v.numpy() if torch.is_tensor(v) else np.asarray(v)) for k, v in item.items()}


class _Materialised(Dataset):
    """Every item of a split generated once (by ``workers`` forked processes) and kept as
    stacked arrays — in memory, or as ``.npy`` files under ``cache_dir`` that later processes
    memory-map (so that parallel study processes share one copy of the data)."""

    def __init__(
        self,
        dataset,
        split: str,
        workers: int = 1,
        keep: Sequence[str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.dataset, self.kind = dataset, dataset.kind
        stem = f"{self.kind}-{split}-{len(dataset)}"
        index_file = None if cache_dir is None else Path(cache_dir) / f"{stem}.json"
        if index_file is not None and index_file.is_file():
            keys = json.loads(index_file.read_text())["keys"]
            self.arrays = {
                k: np.load(Path(cache_dir) / f"{stem}-{k}.npy", mmap_mode="r") for k in keys
            }
        else:
            self.arrays = self._generate(dataset, workers)
            if index_file is not None:
                index_file.parent.mkdir(parents=True, exist_ok=True)
                for key, array in self.arrays.items():
                    with atomic_path(Path(cache_dir) / f"{stem}-{key}.npy") as tmp:
                        with open(tmp, "wb") as handle:
                            np.save(handle, array)
                with atomic_path(index_file) as tmp:
                    Path(tmp).write_text(json.dumps({"keys": list(self.arrays)}))
        if keep is not None:
            self.arrays = {k: v for k, v in self.arrays.items() if k in keep}

    @staticmethod
    def _generate(dataset, workers: int) -> dict[str, np.ndarray]:
        global _POOL_DATASET
        indices = range(len(dataset))
        _POOL_DATASET = dataset
        try:
            if workers > 1:
                import multiprocessing

                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    items = pool.map(_pool_item, indices, chunksize=4)
            else:
                items = [_pool_item(i) for i in indices]
        finally:
            _POOL_DATASET = None
        return {k: np.stack([item[k] for item in items]) for k in items[0]}

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    def __getitem__(self, index: int):
        return {k: torch.from_numpy(np.array(v[index])) for k, v in self.arrays.items()}

    def raw(self, index: int):
        return self.dataset.raw(index)


class StudySession(ExperimentSession):
    """An :class:`ExperimentSession` whose Stage-I/II runs follow a :class:`StudySetting`.

    The setting is configuration: :meth:`StudySetting.models_overrides` and
    :meth:`StudySetting.training_overrides` are resolved into the session's
    :class:`~prelib.config.RunConfig` (``cfg.models.distill``, ``cfg.training.distill``,
    ``cfg.training.adapt``). The networks come from the workflow layer in a keyed
    :class:`~prelib.workflow.RunLayout`: every run folder is named by the hash of the
    configuration that defines it, so a setting that changes a run gets its own folder while
    runs it does not change (the teacher, for every setting) are shared. Test splits are cached
    in memory without PMW/PR.
    """

    def __init__(
        self,
        *args,
        setting: StudySetting | None = None,
        materialise_workers: int = 0,
        data_cache: str | Path | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.setting = setting or StudySetting()
        self.run_config = resolve(
            self.profile,
            seed=self.seed,
            models=self.setting.models_overrides(),
            training=_merge(self.training_overrides, self.setting.training_overrides()),
        ).replace(evaluation=self.config)
        self.layout = RunLayout(self.root, keyed=True)
        self.materialise_workers = int(materialise_workers)
        self.data_cache = None if data_cache is None else Path(data_cache)
        self._slim: dict[str, Any] = {}

    # -- settings ------------------------------------------------------------------------------
    def run_dir(
        self, stage: str, task: str, name: str | None = None, **student_overrides: Any
    ) -> Path:
        """Where the workflow keeps the run of ``stage`` (``teacher``, ``student``, ``adapted``,
        ``fulldisc-unet``) for ``task`` under this setting; nothing is trained."""
        return run_folder(
            self.run_config,
            self.layout,
            stage,
            task,
            name,
            student_overrides=student_overrides or None,
        )

    def scores_path(self, table: str, row: str) -> Path:
        tag = _hash({**self.setting.stage2(), "overrides": self.training_overrides})
        return self.root / "scores" / tag / table / f"{row}.json"

    def dataset(self, kind: str, split: str):
        """Test splits kept in memory without PMW/PR; with ``materialise_workers`` every split
        is generated once by that many processes and kept in memory (GPU machines)."""
        key = (kind, split)
        if self.materialise_workers and key not in self._slim:
            data = super().dataset(kind, split)
            keep = _SlimCache.KEEP if split == "test" else None
            self._slim[key] = _Materialised(
                data, split, self.materialise_workers, keep, self.data_cache
            )
        if key in self._slim:
            return self._slim[key]
        data = super().dataset(kind, split)
        if split != "test":
            return data
        self._slim[key] = _SlimCache(data)
        return self._slim[key]

    def loader(self, kind: str, split: str, batch_size: int | None = None):
        if not self.materialise_workers:
            return super().loader(kind, split, batch_size)
        from prelib.data.datasets import make_dataloader

        config = self.training_config("teacher")
        size = batch_size or (config.batch_size if split == "train" else self.config.batch_size)
        return make_dataloader(
            self.dataset(kind, split), size, shuffle=split == "train", num_workers=0, seed=self.seed
        )

    def baseline(self, name: str, kind: str = "fulldisc"):
        """The IR baseline fitted on at most 128 training samples of ``kind`` (IR only read)."""
        from prelib.baselines import get_baseline, load_baseline

        key = f"{kind}-{name}"
        if key in self._baselines:
            return self._baselines[key]
        path = self.root / "baselines" / f"{key}.npz"  # pickle-free
        if path.is_file():
            model = load_baseline(path)
        else:
            train = ExperimentSession.dataset(self, kind, "train")
            if isinstance(train, _Materialised):
                train = train.dataset
            n = min(len(train), 128)
            irs, precips = [], []
            for i in range(n):
                raw = train.raw(i)
                irs.append(np.asarray(raw["ir"], dtype=np.float32))
                precips.append(np.asarray(raw["precip"], dtype=np.float32))
            ir, precip = np.stack(irs), np.stack(precips)
            settings: dict[str, Any] = {"seed": self.seed}
            if name == "gbm":
                settings["max_pixels"] = self.config.baseline_max_pixels
            model = get_baseline(name, **settings).fit(ir, precip, np.isfinite(precip))
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
        self._baselines[key] = model
        return model

    # -- scoring on a split --------------------------------------------------------------------
    def score_split(self, row: StudyRow, split: str) -> dict[str, float]:
        """Scores of ``row`` on ``split`` (``val`` or ``test``), cached."""
        path = self.scores_path(row.group, f"{row.key}-{split}")
        if path.is_file():
            cached = json.loads(path.read_text())["scores"]
            return {k: (math.nan if v is None else float(v)) for k, v in cached.items()}
        predict = self._predictor(row)
        scores = score_predictor(
            predict,
            self.loader(row.kind, split),
            threshold=self.config.threshold,
            seed=self.seed,
            show_progress=self.show_progress,
            description=f"{row.group} {row.key} {split}",
            calibration_loader=self.loader(row.kind, "val"),
        )
        record = {
            "row": row.key,
            "group": row.group,
            "split": split,
            "seed": self.seed,
            "setting": self.setting.stage2(),
            "scores": {k: (None if math.isnan(v) else v) for k, v in scores.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=1))
        return scores

    def _predictor(self, row: StudyRow):
        if row.what == "gbm":
            return baseline_predictor(self.baseline("gbm", kind=row.kind))
        stage, name = row.what.split(":", 1)
        overrides = dict(row.student_overrides)
        if stage == "student":
            return two_network_predictor(
                self.student(name, "cls", **overrides), self.student(name, "reg", **overrides)
            )
        if stage == "adapted":
            return two_network_predictor(self.adapted(name, "cls"), self.adapted(name, "reg"))
        if stage == "light":
            return two_network_predictor(self.light("cls", name), self.light("reg", name))
        raise ValueError(f"unknown study row kind {row.what!r}")


def convergence_table(root: str | Path) -> pd.DataFrame:
    """First / best / last validation loss of every training run under ``root`` and whether it
    plateaued (best of the last third of epochs within :data:`PLATEAU_TOLERANCE` of the best
    before it)."""
    records = []
    for metrics in sorted(Path(root).rglob("metrics.csv")):
        try:
            log = pd.read_csv(metrics)
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue  # a run that is just starting (or being written by another process)
        column = "val_task_loss" if "val_task_loss" in log.columns else "val_loss"
        if column not in log.columns or log[column].dropna().empty:
            continue
        values = log[column].to_numpy(dtype=float)
        n = len(values)
        cut = max(1, n - max(1, n // 3))
        early, late = np.nanmin(values[:cut]), np.nanmin(values[cut:]) if cut < n else np.nan
        gain = (early - late) / abs(early) if np.isfinite(late) and early else math.nan
        seed = next((p.name for p in metrics.parents if p.name.startswith("seed-")), "")
        records.append(
            {
                "run": f"{metrics.parent.parent.name}/{metrics.parent.name}",
                "seed": seed,
                "metric": column,
                "epochs": n,
                "first": values[0],
                "best": np.nanmin(values),
                "last": values[-1],
                "late_gain": gain,
                "plateaued": bool(np.isfinite(gain) and gain < PLATEAU_TOLERANCE),
                "train_loss_curve": " ".join(f"{v:.4g}" for v in log.get("train_loss", [])),
                "val_loss_curve": " ".join(f"{v:.4g}" for v in values),
            }
        )
    return pd.DataFrame.from_records(records)


def _choose_default(records: pd.DataFrame) -> tuple[StudySetting, pd.DataFrame]:
    """The balance setting with the best mean validation CSI of CoMWE."""
    val = records[(records["group"] == "balance") & (records["split"] == "val")]
    val = val[val["row"].str.startswith("comwe-")]
    if val.empty:
        return StudySetting(), pd.DataFrame()
    ranking = val.groupby("row")["csi"].agg(["mean", "std", "count"]).sort_values("mean")
    best = ranking.index[-1]
    _, weighting, clip = best.split("-")
    return StudySetting(weighting=weighting, grad_clip=float(clip[len("clip") :])), ranking


def run_study(
    out_dir: str | Path,
    profile: str = "study",
    seeds: Sequence[int] = (0, 1, 2),
    groups: Sequence[str] = GROUPS,
    rows: Sequence[str] | None = None,
    data: str = "auto",
    training_overrides: dict[str, Any] | None = None,
    evaluation_overrides: dict[str, Any] | None = None,
    default: StudySetting | None = None,
    show_progress: bool = False,
    materialise_workers: int = 0,
    data_cache: str | Path | None = None,
    prepare_only: bool = False,
    log=print,
) -> dict[str, Any]:
    """Run (or resume) the study grid and write its reports; see the module docstring.

    Parameters
    ----------
    out_dir : path-like
        Where networks, scores and reports go.
    profile : str
        Size profile (``study`` converges; ``tiny`` for smoke tests).
    seeds : sequence of int
        Training seeds (one data set; seeds vary weights, shuffling, masks).
    groups : sequence of str
        Groups of :data:`GROUPS` to run.
    rows : sequence of str, optional
        Only these row keys.
    data : str
        As :class:`ExperimentSession` (``auto``: a built store, else generated on the fly).
    training_overrides, evaluation_overrides : dict, optional
        Field overrides of every training stage / of the evaluation config (sizes).
    default : StudySetting, optional
        Default setting of the non-balance rows; ``None`` picks it on validation from the
        ``balance`` rows of every seed scored so far under ``out_dir`` (the paper's weighting
        if none).
    materialise_workers : int
        Generate every split once with this many processes and keep it in memory (fast on a
        GPU machine with RAM to spare; ``0`` streams from the store / generator).
    data_cache : path-like, optional
        With ``materialise_workers``: keep the generated splits as ``.npy`` files there and
        memory-map them (parallel processes share one copy).
    prepare_only : bool
        Only generate the splits the grid needs (into ``data_cache``) and return.
    log : callable
        Progress lines.

    Returns
    -------
    dict
        ``records`` (DataFrame), ``default`` (StudySetting), ``paths`` (written files).
    """
    from prelib.evaluation.config import load_evaluation_config

    if not seeds:
        raise ValueError("seeds must name at least one seed")
    out_dir = Path(out_dir)
    config = load_evaluation_config(profile, **(evaluation_overrides or {}))
    grid = [r for r in study_rows(groups) if rows is None or r.key in rows]
    if not grid:
        raise ValueError(f"no study row matches groups {list(groups)} and rows {rows}")
    sessions: dict[tuple[int, str], StudySession] = {}

    def session(seed: int, setting: StudySetting) -> StudySession:
        key = (seed, json.dumps(setting.stage2(), sort_keys=True))
        if key not in sessions:
            sessions[key] = StudySession(
                profile,
                out_dir,
                seed,
                data=data,
                config=config,
                training_overrides=training_overrides,
                show_progress=show_progress,
                setting=setting,
                materialise_workers=materialise_workers,
                data_cache=data_cache,
            )
            # share data, teachers and baselines between the settings of a seed
            first = next(s for (k, _), s in sessions.items() if k == seed)
            if first is not sessions[key]:
                sessions[key]._datasets = first._datasets
                sessions[key]._slim = first._slim
                sessions[key]._baselines = first._baselines
                for name, net in first._networks.items():
                    if name.startswith("teacher-"):
                        sessions[key]._networks[name] = net
        return sessions[key]

    if prepare_only:
        if not materialise_workers:
            raise ValueError("prepare_only needs materialise_workers >= 1")
        first = session(seeds[0], StudySetting())
        for kind in dict.fromkeys(r.kind for r in grid):
            for split in ("train", "val", "test"):
                started = time.perf_counter()
                data = first.dataset(kind, split)
                log(f"{kind} {split}: {len(data)} samples ({time.perf_counter() - started:.0f} s)")
        return {"records": pd.DataFrame(), "default": StudySetting(), "paths": {}}

    records: list[dict[str, Any]] = []

    def run_rows(selected: list[StudyRow], default_setting: StudySetting) -> None:
        for seed in seeds:
            for row in selected:
                setting = row_setting(row, default_setting)
                for split in ("val", "test"):
                    scores = session(seed, setting).score_split(row, split)
                    records.append(
                        {
                            "group": row.group,
                            "row": row.key,
                            "label": row.label,
                            "seed": seed,
                            "split": split,
                            **setting.stage2(),
                            **{k: scores.get(k, math.nan) for k in SCORE_COLUMNS},
                        }
                    )
                log(
                    f"seed {seed} {row.group}/{row.key}: test CSI {records[-1]['csi']:.3f}, "
                    f"val CSI {records[-2]['csi']:.3f}"
                )

    balance = [r for r in grid if r.group == "balance"]
    run_rows(balance, StudySetting())
    chosen, ranking = (default, pd.DataFrame()) if default else (None, None)
    if chosen is None:
        chosen, ranking = _choose_default(cached_records(out_dir))
    log(f"default setting (validation): {chosen.label()}")
    run_rows([r for r in grid if r.group != "balance"], chosen)
    frame = pd.DataFrame.from_records(records)
    paths = write_study_report(frame, out_dir, chosen, ranking)
    return {"records": frame, "default": chosen, "paths": paths}


def cached_records(out_dir: str | Path) -> pd.DataFrame:
    """Every study score cached under ``out_dir`` (all seeds, settings and rows), one line per
    row × seed × split, in the layout of ``study_scores.csv``."""
    labels = {(r.group, r.key): r.label for r in study_rows(GROUPS)}
    records = []
    for path in sorted(Path(out_dir).glob("runs/seed-*/scores/*/*/*.json")):
        record = json.loads(path.read_text())
        if "split" not in record or "setting" not in record:
            continue
        scores = record["scores"]
        records.append(
            {
                "group": record["group"],
                "row": record["row"],
                "label": labels.get((record["group"], record["row"]), record["row"]),
                "seed": record["seed"],
                "split": record["split"],
                **record["setting"],
                **{
                    k: (math.nan if scores.get(k) is None else float(scores[k]))
                    for k in SCORE_COLUMNS
                },
            }
        )
    columns = ["group", "row", "label", "seed", "split", *StudySetting().stage2(), *SCORE_COLUMNS]
    return pd.DataFrame.from_records(records, columns=columns)


def report_cached(out_dir: str | Path, default: StudySetting | None = None) -> dict[str, Any]:
    """Write the study report from the scores cached under ``out_dir`` (nothing is trained).

    Rows are kept when they were scored under their :func:`row_setting` with the default
    (picked on validation unless given).
    """
    records = cached_records(out_dir)
    if records.empty:
        raise ValueError(f"no study scores under {out_dir}")
    chosen, ranking = (default, pd.DataFrame()) if default else _choose_default(records)
    grid = {(r.group, r.key): r for r in study_rows(GROUPS)}
    keep = []
    for _, rec in records.iterrows():
        row = grid.get((rec["group"], rec["row"]))
        if row is None:
            setting = None if rec["group"] == "balance" else chosen
        else:
            setting = row_setting(row, chosen)
        if setting is None:
            keep.append(True)
            continue
        keep.append(all(rec[k] == v for k, v in setting.stage2().items()))
    frame = records[keep]
    order = {(r.group, r.key): i for i, r in enumerate(study_rows(GROUPS))}
    frame = frame.assign(
        _order=[order.get((g, k), 10**6) for g, k in zip(frame["group"], frame["row"], strict=True)]
    ).sort_values(["_order", "seed", "split"], kind="stable")
    frame = frame.drop(columns="_order")
    paths = write_study_report(frame, out_dir, chosen, ranking)
    return {"records": frame, "default": chosen, "paths": paths}


def write_study_report(
    records: pd.DataFrame,
    out_dir: str | Path,
    default: StudySetting,
    ranking: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write ``study_scores.csv``, ``study_<group>.csv/.md``, ``convergence.csv``, ``study.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {"scores": out_dir / "study_scores.csv"}
    with atomic_path(paths["scores"]) as tmp:
        records.to_csv(tmp, index=False)
    sections = [
        "# Settling study",
        "",
        f"Default Stage-I setting picked on validation (CoMWE, mean CSI): **{default.label()}**.",
        "",
    ]
    if ranking is not None and not ranking.empty:
        sections += ["Validation CSI of CoMWE by setting (mean, std, seeds):", ""]
        sections += [
            f"- {row}: {r['mean']:.4f} ± {r['std']:.4f} ({int(r['count'])})"
            for row, r in ranking.iloc[::-1].iterrows()
        ]
        sections.append("")
    for group in dict.fromkeys(records["group"]):
        subset = records[records["group"] == group]
        test = subset[subset["split"] == "test"].rename(columns={"label": "_label"})
        test = test.assign(row=test["_label"])
        summary = summarise(test, TABLE_COLUMNS)
        val = subset[subset["split"] == "val"]
        val_csi = val.groupby("label", sort=False)["csi"].mean()
        summary["val_csi"] = val_csi.reindex(summary.index).to_numpy()
        sizes = test.iloc[test["n_pixels"].argmax()] if len(test) else None
        note = (
            f"Test set: {int(sizes['n_samples'])} samples, {int(sizes['n_pixels']):,} scored "
            f"pixels ({int(sizes['n_rain_pixels']):,} rain); validation CSI is the mean over "
            "seeds."
            if sizes is not None
            else ""
        )
        csv = out_dir / f"study_{group}.csv"
        md = out_dir / f"study_{group}.md"
        with atomic_path(csv) as tmp:
            summary.to_csv(tmp)
        text = to_markdown(summary, (*TABLE_COLUMNS, "val_csi"), f"Study: {group}", note=note)
        with atomic_path(md) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
        paths[f"{group}_csv"], paths[f"{group}_md"] = csv, md
        sections += [text, ""]
    convergence = convergence_table(out_dir / "runs")
    paths["convergence"] = out_dir / "convergence.csv"
    with atomic_path(paths["convergence"]) as tmp:
        convergence.to_csv(tmp, index=False)
    if not convergence.empty:
        plateaued = int(convergence["plateaued"].sum())
        sections += [
            f"Convergence: {plateaued} of {len(convergence)} training runs plateaued (best "
            f"validation loss of the last third of epochs within {PLATEAU_TOLERANCE:.0%} of "
            "the best before it); curves in convergence.csv.",
            "",
        ]
    paths["default"] = out_dir / "default_setting.json"
    with atomic_path(paths["default"]) as tmp:
        Path(tmp).write_text(json.dumps(dataclasses.asdict(default)))
    paths["markdown"] = out_dir / "study.md"
    with atomic_path(paths["markdown"]) as tmp:
        Path(tmp).write_text("\n".join(sections), encoding="utf-8")
    return paths
