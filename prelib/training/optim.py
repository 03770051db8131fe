"""Optimiser and learning-rate schedule builders.

Paper and reference code (prenet_reference.md §5.2, §6.5): RMSprop(lr, momentum 0.999,
weight decay 1e-4) and StepLR(step 30, γ 0.5), i.e. "halve every 30 epochs". Here the schedule is
stepped once at the end of every epoch, which is what the paper states; the code's irregular
stepping (not stepped in epochs 2–39 of Stage I) is a defect we do not reproduce (§8 #14).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from prelib.training.config import TrainingConfig


def build_optimizer(params: Iterable[torch.nn.Parameter], config: TrainingConfig):
    """The optimiser named by ``config.optimizer`` over the trainable ``params``.

    Frozen parameters (``requires_grad=False``) are left out, so that Stage II with a frozen AE
    and LoRA adapters optimises only what it trains.
    """
    trainable = [p for p in params if p.requires_grad]
    if not trainable:
        raise ValueError("the model has no trainable parameters (all requires_grad=False)")
    name = config.optimizer
    if name == "rmsprop":
        return torch.optim.RMSprop(
            trainable, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if name == "sgd":
        return torch.optim.SGD(
            trainable, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if name == "adam":
        return torch.optim.Adam(trainable, lr=config.lr, weight_decay=config.weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of rmsprop, adam, adamw, sgd")


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainingConfig):
    """``StepLR(step_size=config.lr_step_size, gamma=config.lr_gamma)``, stepped per epoch.

    With the paper's 30 / 0.5 the learning rate of epoch e (1-indexed) is
    ``lr · 0.5 ** ((e − 1) // 30)``.
    """
    return torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=config.lr_step_size, gamma=config.lr_gamma
    )
