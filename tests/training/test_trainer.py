"""Trainer: learning, schedule, resume-after-kill equality, NaN stop, empty data, best selection."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from prelib.training.checkpoint import load_checkpoint
from prelib.training.config import TrainingConfig, load_training_config
from prelib.training.trainer import NonFiniteLossError, Trainer

JOB = Path(__file__).with_name("resume_job.py")


def _load_job():
    spec = importlib.util.spec_from_file_location("resume_job", JOB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LinearScenes(Dataset):
    """precip = 2·ir[0] − 1 on 8 × 8 scenes; optional all-NaN labels."""

    def __init__(self, n: int = 8, all_nan: bool = False) -> None:
        gen = torch.Generator().manual_seed(0)
        self.ir = torch.rand(n, 1, 8, 8, generator=gen)
        self.precip = 2.0 * self.ir[:, 0] - 1.0
        if all_nan:
            self.precip[:] = torch.nan

    def __len__(self) -> int:
        return len(self.ir)

    def __getitem__(self, i: int) -> dict:
        return {"ir": self.ir[i], "precip": self.precip[i], "index": i}


def _config(**changes) -> TrainingConfig:
    base = dict(epochs=3, optimizer="adam", lr=0.05, seed=0, device="cpu", lr_step_size=10)
    base.update(changes)
    return TrainingConfig(**base)


def _trainer(tmp_path, data=None, model=None, **changes) -> Trainer:
    data = data if data is not None else LinearScenes()
    return Trainer(
        model or torch.nn.Conv2d(1, 1, 1),
        "mse",
        DataLoader(data, batch_size=4, shuffle=len(data) > 0),
        _config(**changes),
        tmp_path,
        val_loader=DataLoader(data, batch_size=4),
        model_name="conv",
        show_progress=False,
    )


def test_training_lowers_loss_and_writes_logs_and_checkpoints(tmp_path):
    data = LinearScenes()
    torch.manual_seed(0)
    model = torch.nn.Conv2d(1, 1, 1)
    with torch.no_grad():
        initial = torch.mean((model(data.ir)[:, 0] - data.precip) ** 2).item()
    result = _trainer(tmp_path, data=data, model=model, epochs=12, lr=0.1).fit()
    losses = [row["val_loss"] for row in result.history]
    assert losses[-1] < losses[0] and losses[-1] < 0.1 * initial
    assert (tmp_path / "last.pt").is_file() and (tmp_path / "best.pt").is_file()
    assert result.best_value == min(losses)
    assert result.best_epoch == 1 + losses.index(min(losses))
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert len(csv_lines) == 13 and "val_loss" in csv_lines[0]
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, 13))
    header = load_checkpoint(tmp_path / "best.pt", "conv", "tiny")["header"]
    assert header["epoch"] == result.best_epoch and header["config"]["optimizer"] == "adam"


def test_schedule_halves_learning_rate_every_step_size_epochs(tmp_path):
    result = _trainer(tmp_path, epochs=5, lr=0.01, lr_step_size=2, lr_gamma=0.5).fit()
    assert [row["lr"] for row in result.history] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005, 0.0025]
    )


def test_scheduler_fn_is_stepped_after_every_optimiser_step(tmp_path):
    seen = {}

    def cosine(optimizer, total_steps):
        seen["total_steps"] = total_steps
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    result = Trainer(
        torch.nn.Conv2d(1, 1, 1),
        "mse",
        DataLoader(LinearScenes(), batch_size=4, shuffle=True),
        _config(epochs=3, lr=0.01, lr_step_size=1, lr_gamma=0.5),
        tmp_path,
        show_progress=False,
        scheduler_fn=cosine,
    ).fit()
    assert seen["total_steps"] == 3 * 2  # 8 scenes in batches of 4, 3 epochs
    expected = [0.01 * (1 + math.cos(math.pi * step / 6)) / 2 for step in (0, 2, 4)]
    assert [row["lr"] for row in result.history] == pytest.approx(expected)  # not halved


def test_paper_profile_uses_rmsprop_and_halving_every_30_epochs():
    cfg = load_training_config("paper")
    assert (cfg.optimizer, cfg.lr, cfg.momentum, cfg.weight_decay) == ("rmsprop", 1e-6, 0.999, 1e-4)
    assert (cfg.lr_step_size, cfg.lr_gamma, cfg.grad_clip) == (30, 0.5, 1.0)
    assert load_training_config("tiny").masktune.strategy == "none"
    with pytest.raises(ValueError, match="optimizer"):
        load_training_config("tiny", optimizer="lbfgs")


def test_resume_after_kill_matches_uninterrupted_run_bit_exactly(tmp_path):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    proc = subprocess.run([sys.executable, str(JOB), str(killed), "2"], capture_output=True)
    assert proc.returncode != 0  # SIGKILL after epoch 2's checkpoint
    assert load_checkpoint(killed / "last.pt")["header"]["epoch"] == 2
    job = _load_job()
    job.run_job(str(killed))  # the same command again: resumes at epoch 3
    job.run_job(str(straight))
    resumed = load_checkpoint(killed / "last.pt")
    reference = load_checkpoint(straight / "last.pt")
    assert resumed["header"]["epoch"] == reference["header"]["epoch"] == job.EPOCHS
    for name, tensor in reference["model"].items():
        assert torch.equal(resumed["model"][name], tensor), name
    assert torch.equal(
        resumed["masktune"]["store"]["flags"]["masks"],
        reference["masktune"]["store"]["flags"]["masks"],
    )
    killed_rows = (killed / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["val_loss"] for r in killed_rows] == [
        json.loads(r)["val_loss"] for r in (straight / "metrics.jsonl").read_text().splitlines()
    ]


class ExplodesAtEpoch3(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        out = self.conv(x)
        return out * torch.nan if self.calls > 4 else out  # 2 train batches/epoch + 1 val


def test_nan_loss_stops_with_clear_error_and_keeps_last_good_checkpoint(tmp_path):
    trainer = _trainer(tmp_path, model=ExplodesAtEpoch3(), epochs=5)
    with pytest.raises(NonFiniteLossError, match=r"epoch 2.*last good checkpoint"):
        trainer.fit()
    payload = load_checkpoint(tmp_path / "last.pt", "conv", "tiny")
    assert payload["header"]["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in payload["model"].values())


def test_empty_dataset_and_all_nan_labels_are_refused(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        _trainer(tmp_path / "a", data=LinearScenes(n=0))
    with pytest.raises(ValueError, match="no valid label pixel"):
        _trainer(tmp_path / "b", data=LinearScenes(all_nan=True)).fit()


def test_resume_with_other_model_name_or_config_is_refused(tmp_path):
    _trainer(tmp_path, epochs=1).fit()
    other = _trainer(tmp_path, epochs=2)
    other.model_name = "unet"
    with pytest.raises(ValueError, match="model_name='conv', expected 'unet'"):
        other.fit()
    with pytest.raises(ValueError, match=r"configuration differs in \['lr'\]"):
        _trainer(tmp_path, epochs=2, lr=0.1).fit()
    extended = _trainer(tmp_path, epochs=2).fit()  # more epochs is a legal extension
    assert [row["epoch"] for row in extended.history] == [1, 2]


def test_best_metric_must_exist(tmp_path):
    with pytest.raises(ValueError, match="best_metric 'val_csi'"):
        _trainer(tmp_path, epochs=1, best_metric="val_csi").fit()


def test_bf16_autocast_path_runs_on_cpu(tmp_path):
    result = _trainer(tmp_path, epochs=1, amp="bf16").fit()
    assert math.isfinite(result.history[0]["train_loss"])


@pytest.mark.slow
def test_torchrun_two_process_ddp_on_cpu(tmp_path):
    """The same job under torchrun (gloo, 2 ranks): rank 0 writes, masks are gathered."""
    script = tmp_path / "ddp_job.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(JOB.parent)!r})\nimport resume_job\n"
        "resume_job.run_job(sys.argv[1])\n"
    )
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(script),
            str(run_dir),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "find_unused_parameters=True was specified" not in proc.stderr  # static graph mode
    payload = load_checkpoint(run_dir / "last.pt", "masked-net", "tiny")
    assert payload["header"]["epoch"] == 4
    assert len(payload["masktune"]["store"]["flags"]["indices"]) == 12  # both ranks' samples


@pytest.mark.gpu
def test_cuda_bf16_training_and_cpu_loading(tmp_path):
    result = _trainer(tmp_path, epochs=1, device="cuda").fit()
    assert math.isfinite(result.history[0]["train_loss"])
    payload = load_checkpoint(tmp_path / "last.pt", "conv", "tiny")
    assert all(v.device.type == "cpu" for v in payload["model"].values())


def test_without_validation_data_best_is_selected_on_training_loss(tmp_path):
    data = LinearScenes()
    trainer = Trainer(
        torch.nn.Conv2d(1, 1, 1),
        "mse",
        DataLoader(data, batch_size=4),
        _config(epochs=2),
        tmp_path,
        show_progress=False,
    )
    result = trainer.fit()
    losses = [row["train_loss"] for row in result.history]
    assert result.best_value == min(losses) and "val_loss" not in result.history[0]
