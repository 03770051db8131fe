"""The one model-agnostic training loop of prelib.

Every stage (teacher, Swath-Distilling, Full-Disc Adaptation, MAUNet …) trains through
:class:`Trainer`: give it a model, a step function ``step_fn(model, batch) -> dict`` whose
``"loss"`` entry is minimised (or a task loss name, see
:func:`prelib.training.losses.make_step_fn`),
data loaders and a :class:`~prelib.training.config.TrainingConfig`. It provides

* device selection (CUDA when present) and bf16 autocast on GPU;
* the paper's optimiser and step schedule (configurable), gradient-norm clipping;
* validation every ``val_every`` epochs with ``best.pt`` selected by a metric and a mode;
* ``last.pt`` written atomically after every epoch with the model, optimiser, scheduler, every
  random state (Python, NumPy, torch, the loader's generators) and the mask store, so that
  re-running the same command after a kill resumes and ends with the same weights as an
  uninterrupted run (bit-exact on CPU);
* ``metrics.csv`` / ``metrics.jsonl``, tqdm progress, and a clear stop on a non-finite loss that
  keeps the last good checkpoint;
* DDP under ``torchrun`` without code changes (:mod:`prelib.training.distributed`);
* Rand-/Self-MaskTune through :class:`~prelib.training.masktune.MaskTuner`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from prelib import runtime
from prelib.atomic import atomic_path
from prelib.errors import InvalidDataError, PrelibError
from prelib.training import distributed
from prelib.training.checkpoint import (
    load_checkpoint,
    load_state_checked,
    make_header,
    save_checkpoint,
    to_plain,
)
from prelib.training.config import TrainingConfig
from prelib.training.frozen import eval_frozen_modules
from prelib.training.losses import LossFn, make_step_fn
from prelib.training.masktune import MaskTuner
from prelib.training.metrics_log import MetricsLog
from prelib.training.optim import build_optimizer, build_scheduler
from prelib.training.random_state import (
    capture_global_rng,
    capture_loader_rng,
    restore_global_rng,
    restore_loader_rng,
)
from prelib.validation import check_network_inputs

NETWORK_INPUT_KEYS: tuple[str, ...] = ("pmw", "pr", "geo")
"""Batch inputs besides the image checked by :func:`prelib.validation.check_network_inputs`
(finite and of sane magnitude where ``input_valid`` flags them valid) before every step."""

RESUMABLE_CHANGES: tuple[str, ...] = ("epochs", "device", "num_workers", "keep_epoch_checkpoints")
"""Configuration fields that may differ between a run and its resumption."""

StepFn = Callable[[torch.nn.Module, dict[str, Any]], dict[str, torch.Tensor]]
EvaluateFn = Callable[[torch.nn.Module, Any, torch.device], dict[str, float]]


class NonFiniteLossError(PrelibError, RuntimeError):
    """Training stopped because the loss or the gradient norm became NaN or infinite."""


@dataclasses.dataclass
class TrainingResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    history : list of dict
        One row per epoch (as in ``metrics.jsonl``).
    best_epoch : int or None
    best_value : float or None
    last_checkpoint, best_checkpoint : Path or None
    """

    history: list[dict[str, Any]]
    best_epoch: int | None
    best_value: float | None
    last_checkpoint: Path | None
    best_checkpoint: Path | None


class Trainer:
    """Train ``model`` with ``step_fn`` on ``train_loader``; see the module docstring.

    Parameters
    ----------
    model : torch.nn.Module
    step_fn : callable or str
        ``step_fn(model, batch) -> dict`` with a scalar ``"loss"``; optional ``"loss_map"``
        (B, H, W; needed by Self-MaskTune), ``"n_valid"`` (valid label pixels; an epoch without
        any raises) and other scalars (logged as ``train_<name>``). A string or loss callable
        builds one with :func:`~prelib.training.losses.make_step_fn`.
    train_loader, val_loader : DataLoader
        Batches are dicts of tensors (``prelib.data`` datasets). ``val_loader`` may be ``None``.
    config : TrainingConfig
    run_dir : path-like
        Where ``last.pt``, ``best.pt`` and the metrics log go.
    model_name, profile : str
        Written into checkpoint headers; resuming or loading refuses other values. ``profile`` is
        only a label (nothing is read from it); with ``run_config`` it defaults to the run's.
    evaluate_fn : callable, optional
        ``evaluate_fn(model, val_loader, device) -> dict`` of extra validation metrics (e.g. CSI
        from ``prelib.metrics``); merged with the step function's validation scalars.
    image_key, index_key, mask_key : str
        Batch keys of the input image (for the mask grid), the dataset index and the mask.
    show_progress : bool
        tqdm bars (rank 0 only).
    epoch_callbacks : list of callables
        ``callback(epoch, row)`` after each epoch's checkpoint is written.
    run_config : mapping, optional
        The resolved run configuration (``prelib.config.RunConfig.to_dict()``), stored in every
        checkpoint header as ``run_config`` so that the model can be rebuilt from its file.

    Notes
    -----
    The Trainer does not seed: a training run is seeded once, by its caller, before the network
    is built (:mod:`prelib.training.stages` does it), so that initialisation and data order follow
    from one seed.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        step_fn: StepFn | str | LossFn,
        train_loader,
        config: TrainingConfig,
        run_dir: str | Path,
        val_loader=None,
        model_name: str = "model",
        profile: str | None = None,
        evaluate_fn: EvaluateFn | None = None,
        image_key: str = "ir",
        index_key: str = "index",
        mask_key: str = "mask",
        show_progress: bool = True,
        epoch_callbacks: list[Callable[[int, dict[str, Any]], None]] | None = None,
        run_config: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(config, TrainingConfig):
            raise ValueError(f"config must be a TrainingConfig, got {type(config).__name__}")
        if isinstance(step_fn, str) or not _looks_like_step_fn(step_fn):
            step_fn = make_step_fn(step_fn, input_key=image_key, mask_key=mask_key)
        self.config = config
        self.step_fn = step_fn
        if profile is None:
            profile = str((run_config or {}).get("profile", "tiny"))
        self.model_name, self.profile = model_name, profile
        self.run_config = to_plain(dict(run_config)) if run_config is not None else None
        self.run_dir = Path(run_dir)
        self.evaluate_fn = evaluate_fn
        self.image_key, self.index_key, self.mask_key = image_key, index_key, mask_key
        self.epoch_callbacks = list(epoch_callbacks or [])
        self.is_main = distributed.is_main_process()
        self.show_progress = show_progress and self.is_main

        self.device = distributed.init_distributed(runtime.select_device(config.device))
        self.amp = config.amp == "bf16" or (config.amp == "auto" and self.device.type == "cuda")
        self.model = distributed.wrap_model(
            model.to(self.device), self.device, config.find_unused_parameters
        )
        self.train_loader = distributed.distribute_loader(train_loader, True, config.seed)
        self.val_loader = (
            distributed.distribute_loader(val_loader, False, config.seed)
            if val_loader is not None
            else None
        )
        _check_not_empty(self.train_loader, "training")
        if self.val_loader is not None:
            _check_not_empty(
                self.val_loader,
                "validation",
                "model selection would silently use the training loss; give a validation "
                "split with samples, or pass val_loader=None (--no-validation) to select on "
                "the training metrics explicitly",
            )
        self.optimizer = build_optimizer(self.model.parameters(), config)
        self.scheduler = build_scheduler(self.optimizer, config)
        self.mask_tuner = MaskTuner(config.masktune, seed=config.seed)
        self.log = MetricsLog(self.run_dir if self.is_main else None)
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.start_epoch = 1

    # --------------------------------------------------------------------------------------
    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.run_dir / "best.pt"

    def fit(self, resume: bool = True) -> TrainingResult:
        """Train for ``config.epochs`` epochs, resuming from ``run_dir/last.pt`` if it exists."""
        if resume and self.last_path.is_file():
            self._resume()
        elif self.is_main:
            self.log.truncate(0)  # a fresh run replaces an old log in the same directory
        for epoch in range(self.start_epoch, self.config.epochs + 1):
            started = time.perf_counter()
            if hasattr(self.train_loader.sampler, "set_epoch"):
                self.train_loader.sampler.set_epoch(epoch)
            lr = self.optimizer.param_groups[0]["lr"]
            row: dict[str, Any] = {"epoch": epoch, "lr": lr}
            row.update(self._train_epoch(epoch))
            self.scheduler.step()
            self.mask_tuner.end_epoch(distributed.gather_dicts)
            if self._validates(epoch):
                row.update(self._validate())
                self._update_best(epoch, row)
            row["seconds"] = round(time.perf_counter() - started, 3)
            if self.is_main:
                self.log.append(row)
                self._save(epoch, improved=self.best_epoch == epoch)
            distributed.barrier()
            for callback in self.epoch_callbacks:
                callback(epoch, row)
        return TrainingResult(
            history=list(self.log.rows),
            best_epoch=self.best_epoch,
            best_value=self.best_value,
            last_checkpoint=self.last_path if self.last_path.is_file() else None,
            best_checkpoint=self.best_path if self.best_path.is_file() else None,
        )

    # --------------------------------------------------------------------------------------
    def _move(self, batch: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(batch, dict):
            raise ValueError(f"batches must be dicts of tensors, got {type(batch).__name__}")
        return {
            k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v
            for k, v in batch.items()
        }

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        self.model.train()
        cfg, tuner = self.config, self.mask_tuner
        # Frozen modules (all parameters requires_grad=False) stay in eval mode: their BatchNorm
        # statistics do not move (Stage II), unless ``adabn`` re-estimates them.
        eval_frozen_modules(self.model, adabn=cfg.adabn)
        sums: dict[str, float] = {}
        n_samples, n_valid, n_batches = 0.0, 0.0, 0
        total = len(self.train_loader)
        if cfg.max_steps_per_epoch:
            total = min(total, cfg.max_steps_per_epoch)
        bar = tqdm(
            self.train_loader,
            total=total,
            desc=f"epoch {epoch}/{cfg.epochs}",
            disable=not self.show_progress,
            leave=False,
        )
        for step, batch in enumerate(bar):
            if cfg.max_steps_per_epoch and step >= cfg.max_steps_per_epoch:
                break
            batch = self._move(batch)
            check_network_inputs(batch, (self.image_key, *NETWORK_INPUT_KEYS))
            if tuner.config.strategy != "none":
                shape = tuple(batch[self.image_key].shape[-2:])
                mask = tuner.batch_mask(batch.get(self.index_key), shape, epoch)
                batch[self.mask_key] = mask.to(self.device)
            with self._autocast():
                out = self.step_fn(self.model, batch)
            loss = out["loss"]
            if not torch.isfinite(loss.detach()):
                self._stop_non_finite(f"loss = {loss.item()}", epoch, step)
            batch_valid = float(out["n_valid"]) if "n_valid" in out else math.nan
            n_batches += 1
            if batch_valid == 0 and not distributed.is_distributed():
                continue  # nothing to learn from (all labels missing); counted below
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                params = [p for p in self.model.parameters() if p.grad is not None]
                norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                if not torch.isfinite(norm):
                    self._stop_non_finite(f"gradient norm = {norm.item()}", epoch, step)
            self.optimizer.step()
            if tuner.records_losses(epoch):
                self._observe(batch, out, epoch)
            size = _batch_size(batch, self.image_key)
            n_samples += size
            n_valid += 0.0 if math.isnan(batch_valid) else batch_valid
            for key, value in out.items():
                if (
                    key not in ("loss_map", "n_valid")
                    and torch.is_tensor(value)
                    and value.ndim == 0
                ):
                    sums[key] = sums.get(key, 0.0) + float(value.detach()) * size
            bar.set_postfix(loss=f"{loss.item():.4g}")
        if n_batches == 0:
            raise ValueError("the training loader yielded no batch (empty dataset?)")
        sums = distributed.all_reduce_sums(
            {**sums, "_n": n_samples, "_valid": n_valid}, self.device
        )
        if "n_valid" in out and sums["_valid"] == 0:
            raise ValueError(
                f"epoch {epoch}: no valid label pixel in any training batch — are all labels NaN "
                "or is the valid mask empty?"
            )
        n = sums.pop("_n")
        sums.pop("_valid")
        return {f"train_{k}": v / max(n, 1.0) for k, v in sums.items()}

    def _observe(self, batch: dict[str, Any], out: dict[str, torch.Tensor], epoch: int) -> None:
        if "loss_map" not in out:
            raise ValueError("Self-MaskTune needs the step function to return 'loss_map' (B, H, W)")
        if self.index_key not in batch:
            raise ValueError(f"Self-MaskTune needs dataset indices under {self.index_key!r}")
        self.mask_tuner.observe(batch[self.index_key].cpu(), out["loss_map"].float().cpu(), epoch)

    def _stop_non_finite(self, what: str, epoch: int, step: int) -> None:
        kept = (
            f"the last good checkpoint is {self.last_path}"
            if self.last_path.is_file()
            else "no checkpoint was written yet"
        )
        raise NonFiniteLossError(
            f"non-finite {what} at epoch {epoch}, step {step}: training stopped; {kept} "
            "(lower the learning rate or check the inputs for NaN)"
        )

    def _validates(self, epoch: int) -> bool:
        return epoch % self.config.val_every == 0 or epoch == self.config.epochs

    @torch.no_grad()
    def _validate(self) -> dict[str, float]:
        if self.val_loader is None:
            return {}
        self.model.eval()
        sums: dict[str, float] = {}
        n = 0.0
        for batch in tqdm(
            self.val_loader, desc="validation", disable=not self.show_progress, leave=False
        ):
            batch = self._move(batch)
            with self._autocast():
                out = self.step_fn(self.model, batch)
            size = _batch_size(batch, self.image_key)
            n += size
            for key, value in out.items():
                if (
                    key not in ("loss_map", "n_valid")
                    and torch.is_tensor(value)
                    and value.ndim == 0
                ):
                    sums[key] = sums.get(key, 0.0) + float(value.float()) * size
        sums = distributed.all_reduce_sums({**sums, "_n": n}, self.device)
        n = sums.pop("_n")
        metrics = {f"val_{k}": v / max(n, 1.0) for k, v in sums.items()}
        if self.evaluate_fn is not None:
            extra = self.evaluate_fn(
                distributed.unwrap_model(self.model), self.val_loader, self.device
            )
            metrics.update(
                {k if k.startswith("val_") else f"val_{k}": float(v) for k, v in extra.items()}
            )
        return metrics

    def _update_best(self, epoch: int, row: dict[str, Any]) -> None:
        name = self.config.best_metric
        if name not in row and self.val_loader is None:
            # No validation data: select on the training counterpart, else the training loss.
            name = name.replace("val_", "train_", 1)
            name = name if name in row else "train_loss"
        if name not in row:
            raise ValueError(
                f"best_metric {self.config.best_metric!r} is not among the epoch metrics "
                f"{sorted(k for k in row if k != 'epoch')}"
            )
        value = float(row[name])
        if not math.isfinite(value):
            return
        better = (
            self.best_value is None
            or (self.config.best_mode == "min" and value < self.best_value)
            or (self.config.best_mode == "max" and value > self.best_value)
        )
        if better:
            self.best_value, self.best_epoch = value, epoch

    # --------------------------------------------------------------------------------------
    def _payload(self, epoch: int) -> dict[str, Any]:
        return {
            "header": self._header(epoch),
            "model": distributed.unwrap_model(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": capture_global_rng(),
            "loader_rng": capture_loader_rng(self.train_loader),
            "masktune": self.mask_tuner.state_dict(),
            "trainer": {"best_value": self.best_value, "best_epoch": self.best_epoch},
        }

    def _header(self, epoch: int) -> dict[str, Any]:
        header = make_header(self.model_name, self.profile, self.config.to_dict(), epoch)
        if self.run_config is not None:
            header["run_config"] = self.run_config
        return header

    def _save(self, epoch: int, improved: bool) -> None:
        save_checkpoint(self.last_path, self._payload(epoch))
        if improved:  # atomic: a full disk leaves the previous best.pt, never a truncated one
            with atomic_path(self.best_path) as tmp:
                shutil.copyfile(self.last_path, tmp)
        if self.config.keep_epoch_checkpoints:
            with atomic_path(self.run_dir / f"epoch-{epoch:04d}.pt") as tmp:
                shutil.copyfile(self.last_path, tmp)

    def _resume(self) -> None:
        payload = load_checkpoint(self.last_path, self.model_name, self.profile)
        _check_same_config(payload["header"]["config"], self.config.to_dict(), self.last_path)
        load_state_checked(
            distributed.unwrap_model(self.model), payload["model"], str(self.last_path)
        )
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        self.mask_tuner.load_state_dict(payload["masktune"])
        restore_global_rng(payload["rng"])
        restore_loader_rng(self.train_loader, payload["loader_rng"])
        self.best_value = payload["trainer"]["best_value"]
        self.best_epoch = payload["trainer"]["best_epoch"]
        done = int(payload["header"]["epoch"])
        self.start_epoch = done + 1
        if self.is_main:
            self.log.truncate(done)


def _looks_like_step_fn(fn: Any) -> bool:
    """Loss callables take (output, target, valid); step functions take (model, batch)."""
    try:
        return len(inspect.signature(fn).parameters) == 2
    except (TypeError, ValueError):
        return True


def _check_not_empty(loader, what: str, hint: str = "") -> None:
    dataset = getattr(loader, "dataset", None)
    empty = dataset is not None and hasattr(dataset, "__len__") and len(dataset) == 0
    if not empty and hasattr(loader, "__len__"):
        try:
            empty = len(loader) == 0
        except TypeError:
            empty = False
    if empty:
        raise InvalidDataError(f"the {what} dataset is empty" + (f": {hint}" if hint else ""))


def _batch_size(batch: dict[str, Any], key: str) -> int:
    value = batch.get(key)
    if torch.is_tensor(value):
        return int(value.shape[0])
    first = next((v for v in batch.values() if torch.is_tensor(v)), None)
    return int(first.shape[0]) if first is not None else 1


def _check_same_config(saved: dict[str, Any], current: dict[str, Any], path: Path) -> None:
    # Extending a run (more epochs) or moving it (device, workers) is allowed; any other change
    # would mix two experiments in one run directory.
    saved, current = dict(saved), to_plain(current)
    for key in RESUMABLE_CHANGES:
        saved.pop(key, None)
        current.pop(key, None)
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if changed:
        raise ValueError(
            f"cannot resume from {path}: configuration differs in {changed}; "
            "use a new run directory or the original settings"
        )
