"""CPU seconds per training step and per epoch of each stage of the demo chain, per profile.

Usage::

    python benchmarks/evaluation_stage_times.py [--profiles tiny demo] [--steps 3] [--threads 2]

For each stage (teacher, Stage I CoMWE with its frozen teacher, Stage II with one view, LoRA and the
frozen encoder; regression and classification cost the same up to the last layer, so regression is
timed) it builds the network of the profile, pre-loads ``steps`` batches of synthetic samples in
memory (data generation is not timed: the demo reads a pre-built store), and times forward +
backward + optimiser steps and an evaluation forward. Epoch cost = step cost × steps per epoch
(``max_steps_per_epoch`` or the split size / batch) + validation forwards. Prints process CPU
seconds and wall seconds; on a shared machine both are inflated — report ``uptime`` alongside.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch


def _batches(kind: str, data, batch_size: int, steps: int):
    from prelib.data.datasets import BenchmarkDataset, make_dataloader

    dataset = BenchmarkDataset.simulated(kind, "train", data, n_samples=batch_size * steps)
    return list(make_dataloader(dataset, batch_size))


def _model_and_step(stage: str, models):
    from prelib.models import get_distiller, get_student
    from prelib.training import stages

    if stage == "teacher":
        return stages.build_teacher(models, "reg"), stages.teacher_step_fn("reg")
    if stage == "distill":
        teacher = stages.build_teacher(models, "reg").eval().requires_grad_(False)
        pair = stages.DistillationPair(
            get_student("comwe", models, n_classes=1), get_distiller("comwe", models), "reg"
        )
        return pair, stages.distill_step_fn(teacher)
    # Stage II as trained: one masked view, LoRA in the AE, the profile's freezing policy.
    from prelib.models import apply_lora, freeze_for_adaptation

    model = get_student("comwe", models, n_classes=1)
    model.set_num_splits(1)
    lora = models.lora
    apply_lora(model, lora.rank, lora.alpha, tuple(lora.targets))
    freeze_for_adaptation(model, lora.freeze)
    return model, stages.adaptation_step_fn("reg")


def time_stage(stage: str, profile: str, steps: int) -> dict[str, float]:
    """Seconds per optimiser step and per validation batch (CPU process time and wall time)."""
    from prelib.config import resolve
    from prelib.training.optim import build_optimizer

    cfg = resolve(profile)
    config, data = cfg.training.stage(stage), cfg.data
    kind = "fulldisc" if stage == "adapt" else "swath"
    batches = _batches(kind, data, config.batch_size, steps + 1)
    model, step = _model_and_step(stage, cfg.models)
    optimizer = build_optimizer([p for p in model.parameters() if p.requires_grad], config)
    model.train()
    step(model, batches[0])["loss"].backward()  # warm-up (allocations, lazy init)
    optimizer.zero_grad()
    cpu, wall, losses = time.process_time(), time.perf_counter(), []
    for batch in batches[1:]:
        loss = step(model, batch)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss))
    cpu_step = (time.process_time() - cpu) / steps
    wall_step = (time.perf_counter() - wall) / steps
    model.eval()
    cpu, wall = time.process_time(), time.perf_counter()
    with torch.no_grad():
        for batch in batches[1:]:
            step(model, batch)
    cpu_eval = (time.process_time() - cpu) / steps
    wall_eval = (time.perf_counter() - wall) / steps
    n_train, n_val = data.size(kind, "train"), data.size(kind, "val")
    per_epoch = math.ceil(n_train / config.batch_size)
    if config.max_steps_per_epoch:
        per_epoch = min(per_epoch, config.max_steps_per_epoch)
    val_batches = math.ceil(n_val / config.batch_size)
    return {
        "cpu_s_step": cpu_step,
        "wall_s_step": wall_step,
        "wall_s_val_batch": wall_eval,
        "cpu_s_val_batch": cpu_eval,
        "steps_per_epoch": per_epoch,
        "epochs": config.epochs,
        "wall_s_epoch": wall_step * per_epoch + wall_eval * val_batches,
        "cpu_s_epoch": cpu_step * per_epoch + cpu_eval * val_batches,
        "batch_size": config.batch_size,
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--stages", nargs="+", default=["teacher", "distill", "adapt"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load: {os.getloadavg()}  threads: {args.threads}  steps timed: {args.steps}")
    head = (
        f"{'profile':8} {'stage':8} {'batch':>5} {'cpu s/step':>10} {'wall s/step':>11} "
        f"{'steps/ep':>8} {'cpu s/epoch':>11} {'wall s/epoch':>12} {'epochs':>6} "
        f"{'wall s/run':>10}"
    )
    print(head)
    for profile in args.profiles:
        for stage in args.stages:
            r = time_stage(stage, profile, args.steps)
            print(
                f"{profile:8} {stage:8} {r['batch_size']:5d} {r['cpu_s_step']:10.2f} "
                f"{r['wall_s_step']:11.2f} {r['steps_per_epoch']:8d} {r['cpu_s_epoch']:11.1f} "
                f"{r['wall_s_epoch']:12.1f} {r['epochs']:6d} "
                f"{r['wall_s_epoch'] * r['epochs']:10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
