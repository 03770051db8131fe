"""CPU (or GPU) seconds per training epoch of a stage at a profile.

Samples are generated once from the synthetic world and held in memory, so the numbers are the
training loop alone (forward, backward, optimiser, checkpoint), not data generation.

    python benchmarks/training_speed.py --stage adapt --profile demo --n-samples 16 --epochs 2

Stage II runs the ``scratch`` variant by default (no Stage-I checkpoint needed; same network
and masking work as the other variants minus LoRA freezing). Prints one line per epoch and a
summary; nothing is asserted. Timings on shared machines are noisy.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from torch.utils.data import DataLoader, Dataset


class InMemory(Dataset):
    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("teacher", "distill", "adapt"), default="adapt")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--task", choices=("reg", "cls"), default="reg")
    parser.add_argument("--variant", default=None, help="distiller (distill) or variant (adapt)")
    parser.add_argument("--n-samples", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from prelib.config import resolve
    from prelib.data.datasets import BenchmarkDataset
    from prelib.training import stages

    kind = "fulldisc" if args.stage == "adapt" else "swath"
    started = time.perf_counter()
    source = BenchmarkDataset.simulated(
        kind, "train", resolve(args.profile), n_samples=args.n_samples
    )
    items = [source[i] for i in range(len(source))]
    print(f"generated {len(items)} {kind} samples in {time.perf_counter() - started:.1f} s")
    cfg = resolve(
        args.profile,
        device=args.device,
        training={
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "val_every": args.epochs + 1,
        },
    )
    config, models = cfg.training.stage(args.stage), cfg.models
    loader = DataLoader(InMemory(items), batch_size=config.batch_size, shuffle=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.stage == "teacher":
            result = stages.train_teacher(loader, None, tmp, models, args.task, None, config, False)
        elif args.stage == "distill":
            teacher_dir = f"{tmp}/teacher"
            teacher_config = cfg.training.teacher.replace(epochs=1)
            stages.train_teacher(
                loader, None, teacher_dir, models, args.task, None, teacher_config, False
            )
            result = stages.train_swath_distilling(
                loader,
                None,
                f"{tmp}/student",
                f"{teacher_dir}/last.pt",
                models,
                args.task,
                args.variant or "comwe",
                None,
                config,
                False,
            )
        else:
            result = stages.train_full_disc_adaptation(
                loader,
                None,
                tmp,
                None,
                models,
                args.task,
                args.variant or "scratch",
                config,
                show_progress=False,
            )
    seconds = [row["seconds"] for row in result.history]
    for row in result.history:
        print(f"epoch {row['epoch']}: {row['seconds']:.2f} s, train_loss {row['train_loss']:.4g}")
    per_sample = sum(seconds) / (len(seconds) * len(items))
    print(
        f"{args.stage} {args.profile} {args.task} on {args.device} ({args.threads} threads): "
        f"{sum(seconds) / len(seconds):.2f} s/epoch for {len(items)} samples "
        f"({per_sample:.3f} s/sample)"
    )


if __name__ == "__main__":
    main()
