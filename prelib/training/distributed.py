"""Multi-GPU training under ``torchrun`` (DistributedDataParallel), detected from the environment.

``torchrun --nproc_per_node=4 -m prelib train ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; the trainer then initialises the process group (NCCL on GPUs, Gloo on CPU), puts
each rank on its local GPU, wraps the model in DDP and gives the training loader a
``DistributedSampler``. Only rank 0 writes checkpoints and logs. Without those variables
everything here is a no-op, so the same command runs on one device.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler


def world_size() -> int:
    """Number of processes (``WORLD_SIZE``, default 1)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """Global rank of this process (``RANK``, default 0)."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """Rank on this node (``LOCAL_RANK``, default 0)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_distributed() -> bool:
    """True when launched by ``torchrun`` with more than one process."""
    return world_size() > 1


def is_main_process() -> bool:
    """True on rank 0 (and always in a single-process run)."""
    return rank() == 0


def init_distributed(device: torch.device) -> torch.device:
    """Initialise the process group if needed and return this rank's device."""
    if not is_distributed():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def wrap_model(model: torch.nn.Module, device: torch.device, find_unused_parameters: bool):
    """``DistributedDataParallel(model)`` under torchrun, else ``model`` unchanged.

    ``find_unused_parameters=True`` (models with branches that a stage never runs, e.g. a
    student's distillation heads during adaptation) is served by DDP's *static graph* mode: the
    set of used parameters is recorded in the first step and fixed for the stage, so DDP neither
    searches the autograd graph every step nor warns "find_unused_parameters=True was specified
    ... but did not find any unused parameters" when a model happens to use all of them.
    """
    if not is_distributed():
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=ids, find_unused_parameters=False, static_graph=find_unused_parameters
    )


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP wrapper (or the model itself)."""
    return model.module if hasattr(model, "module") else model


def distribute_loader(loader: DataLoader, shuffle: bool, seed: int) -> DataLoader:
    """The same loader with a :class:`DistributedSampler` under torchrun (else unchanged).

    The sampler shuffles with ``seed + epoch`` (the trainer calls ``set_epoch``), so every rank
    agrees on the permutation and resuming at an epoch reproduces its order.
    """
    if not is_distributed() or isinstance(loader.sampler, DistributedSampler):
        return loader
    sampler = DistributedSampler(loader.dataset, shuffle=shuffle, seed=seed, drop_last=shuffle)
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        persistent_workers=loader.persistent_workers if loader.num_workers else False,
    )


def all_reduce_sums(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """Sum scalar entries over ranks (identity in a single process)."""
    if not is_distributed() or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return dict(zip(keys, tensor.tolist()))


def gather_dicts(local: dict[Any, Any]) -> dict[Any, Any]:
    """Merge a dict from every rank (later ranks win on equal keys); identity otherwise."""
    if not is_distributed():
        return local
    parts: list[dict[Any, Any] | None] = [None] * world_size()
    dist.all_gather_object(parts, local)
    merged: dict[Any, Any] = {}
    for part in parts:
        merged.update(part or {})
    return merged


def barrier() -> None:
    """Synchronise ranks (no-op in a single process)."""
    if is_distributed() and dist.is_initialized():
        dist.barrier()
