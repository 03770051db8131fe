"""A small, complete training job used by the resume-after-kill test.

Run as a script (``python resume_job.py RUN_DIR [KILL_AFTER_EPOCH]``) it trains and, when asked,
SIGKILLs itself right after the checkpoint of ``KILL_AFTER_EPOCH``. Imported, ``run_job`` is the
same job in-process. The job shuffles with the global generator, uses dropout (consumes torch's
RNG), NumPy noise in the dataset and Self-MaskTune (the mask store and its generator), so every
piece of state the checkpoint carries matters.
"""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from prelib.runtime import seed_everything
from prelib.training.config import TrainingConfig
from prelib.training.masktune import MaskTuneConfig
from prelib.training.trainer import Trainer

EPOCHS = 4


class NoisyScenes(Dataset):
    """Random IR-like scenes whose label depends on channel 0; NumPy noise on every access."""

    def __init__(self, n: int = 12, size: int = 32) -> None:
        gen = torch.Generator().manual_seed(123)
        self.ir = torch.rand(n, 2, size, size, generator=gen)
        self.precip = 3.0 * self.ir[:, 0] + 0.5
        self.precip[:, :4, :4] = torch.nan  # some missing labels

    def __len__(self) -> int:
        return len(self.ir)

    def __getitem__(self, i: int) -> dict:
        jitter = torch.from_numpy(np.random.normal(0, 0.01, self.ir[i].shape).astype("float32"))  # noqa: NPY002
        precip = self.precip[i]
        return {
            "ir": self.ir[i] + jitter,
            "precip": torch.nan_to_num(precip),
            "valid": torch.isfinite(precip),
            "index": i,
        }


class MaskedNet(torch.nn.Module):
    """Conv net that takes (x, mask) like PRE-Net and uses dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(2, 8, 3, padding=1)
        self.drop = torch.nn.Dropout2d(0.2)
        self.conv2 = torch.nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x, mask=None):
        h = torch.relu(self.conv1(x))
        if mask is not None:
            h = h * torch.nn.functional.interpolate(mask, size=h.shape[-2:], mode="nearest")
        return self.conv2(self.drop(h))


def run_job(run_dir: str, kill_after: int | None = None) -> Trainer:
    # Same thread count in the killed subprocess and in-process: reduction order is part of
    # bit-exactness on CPU.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(run_dir, kill_after)
    finally:
        torch.set_num_threads(threads)


def _run(run_dir: str, kill_after: int | None) -> Trainer:
    seed_everything(7)  # the run's one seeding: the Trainer does not seed
    model = MaskedNet()
    data = NoisyScenes()
    loader = DataLoader(data, batch_size=5, shuffle=True)  # last batch has 2 samples
    config = TrainingConfig(
        epochs=EPOCHS,
        optimizer="rmsprop",
        lr=3e-4,
        momentum=0.9,
        lr_step_size=2,
        seed=3,
        device="cpu",
        val_every=1,
        masktune=MaskTuneConfig(
            strategy="self",
            unmasked_epochs=1,
            cell=8,
            rule="quantile",
            noise_keep=0.1,
            merge="batch",
        ),
    )
    callbacks = []
    if kill_after is not None:

        def kill(epoch: int, row: dict) -> None:
            if epoch == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)

        callbacks.append(kill)
    trainer = Trainer(
        model,
        "mse",
        loader,
        config,
        run_dir,
        val_loader=DataLoader(data, batch_size=6),
        model_name="masked-net",
        profile="tiny",
        show_progress=False,
        epoch_callbacks=callbacks,
    )
    trainer.fit()
    return trainer


if __name__ == "__main__":
    run_job(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
