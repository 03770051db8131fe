"""PRE-Net-Light's skill against its teacher: the adapted PRE-Net, on the Full-IPR test split.

One run, one seed:

1. resolves the run configuration of ``--profile`` (default ``demo``) and ensures, in the run
   folder given as argument, the benchmark stores and the Self-MaskTune PRE-Net pair
   (classifier + regressor) with the workflow layer, which trains the demo chain (teacher →
   CoMWE student → Self-MaskTune) when missing and only loads finished networks;
2. distils PRE-Net-Light for both tasks from that teacher on the Full-IPR training split (the
   validation split picks ``best.pt`` by the task loss), with the Stage-II settings of the
   profile and ``--epochs`` × ``--steps`` (:func:`prelib.workflow.ensure_light`; resumable);
3. fits the per-pixel gradient-boosting baseline on the Full-IPR training split, for reference;
4. scores the three retrievals on the Full-IPR test split with the scoring of Table 5
   (:func:`prelib.evaluation.benchmark.score_predictors`: pooled over the pixels whose label is
   valid and whose IR inputs are all finite, rain threshold of the evaluation profile);
5. prints one table: parameters and GFLOP per 256² tile of the pair (classifier + regressor),
   RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8, the test-set size, and Light's relative CSI loss
   against its teacher (goal ≤ 3 %).

Usage::

    nice -n 10 python benchmarks/prenet_light_skill.py outputs/light-skill --threads 2

A second run in the same folder loads every network and only re-scores. Timings depend on the
machine and its load.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import torch

CSI_GOAL = 0.03
"""Goal of issue 16: at most 3 % relative CSI loss of PRE-Net-Light against its teacher."""

METRIC_COLUMNS = ("rmse", "cc", "pod", "far", "csi", "csi4", "csi8")


def _forward_gflop():
    """``forward_gflop(net, tile, device)`` of ``benchmarks/fulldisc_inference.py``."""
    path = Path(__file__).with_name("fulldisc_inference.py")
    spec = importlib.util.spec_from_file_location("fulldisc_inference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.forward_gflop


def pair_cost(classifier: torch.nn.Module, regressor: torch.nn.Module, tile: int) -> dict:
    """Parameters and GFLOP per ``tile``² tile of a classifier + regressor pair (LoRA merged)."""
    from prelib.models.preparation import prepare_for_inference

    forward_gflop = _forward_gflop()
    params, gflop = 0, 0.0
    for net in (classifier, regressor):
        ready = prepare_for_inference(net, "cpu", channels_last=False)
        params += sum(p.numel() for p in ready.parameters())
        gflop += forward_gflop(ready, tile, torch.device("cpu"))
    return {"params": params, "gflop": gflop}


def fit_gbm(data, cfg, seed: int):
    """The per-pixel gradient-boosting baseline fitted on the Full-IPR training split."""
    from prelib.evaluation.benchmark import fit_baselines

    train = data.dataset("fulldisc", "train")
    raws = [train.raw(i) for i in range(len(train))]
    ir = np.stack([r["ir"] for r in raws]).astype(np.float32)
    precip = np.stack([r["precip"] for r in raws]).astype(np.float32)
    fitted = fit_baselines(
        ["gbm"], ir, precip, seed=seed, max_pixels=cfg.evaluation.baseline_max_pixels
    )
    return fitted["gbm"]


def scored_pixels(loader) -> tuple[int, int]:
    """Samples and scored pixels (label valid, IR inputs finite) of a test loader."""
    samples, pixels = 0, 0
    for batch in loader:
        samples += int(batch["precip"].shape[0])
        pixels += int((batch["valid"] & batch["input_valid"]).sum())
    return samples, pixels


def format_table(table, costs: dict, samples: int, pixels: int) -> str:
    """The result table as Markdown (one row per method)."""
    header = ["method", "params (pair)", "GFLOP/tile (pair)", *[c.upper() for c in METRIC_COLUMNS]]
    header = [h.replace("CSI4", "CSI-4").replace("CSI8", "CSI-8") for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, row in table.iterrows():
        cost = costs.get(method)
        params = f"{cost['params'] / 1e6:.2f} M" if cost else "–"
        gflop = f"{cost['gflop']:.2f}" if cost else "–"
        values = [f"{row[c]:.3f}" if np.isfinite(row[c]) else "nan" for c in METRIC_COLUMNS]
        lines.append("| " + " | ".join([method, params, gflop, *values]) + " |")
    lines.append(f"\nFull-IPR test split: {samples} samples of 256², {pixels} scored pixels.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="run folder (created; reused when present)")
    parser.add_argument("--profile", default="demo", help="run profile (default demo)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument(
        "--data-root", type=Path, default=None, help="benchmark stores (default RUN_DIR/data)"
    )
    parser.add_argument("--epochs", type=int, default=3, help="Light epochs (default 3)")
    parser.add_argument(
        "--steps", type=int, default=24, help="Light steps per epoch, batch of the profile"
    )
    parser.add_argument(
        "--distill-epochs", type=int, default=None, help="Stage-I epochs (default: the profile's)"
    )
    parser.add_argument(
        "--adapt-epochs", type=int, default=None, help="Stage-II epochs (default: the profile's)"
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        choices=("cls", "reg"),
        default=("cls", "reg"),
        help="train only these networks (two processes can train cls and reg side by side); "
        "scores only when both are given",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--tile", type=int, default=256, help="tile size of the FLOP count")
    args = parser.parse_args(argv)

    from prelib.config import resolve
    from prelib.evaluation.benchmark import score_predictors
    from prelib.evaluation.scoring import baseline_predictor, two_network_predictor
    from prelib.workflow import (
        BenchmarkData,
        RunLayout,
        ensure_adapted,
        ensure_benchmarks,
        ensure_light,
    )

    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)

    chain = {
        stage: {"epochs": epochs}
        for stage, epochs in (("distill", args.distill_epochs), ("adapt", args.adapt_epochs))
        if epochs is not None
    }
    cfg = resolve(args.profile, seed=args.seed, device="cpu", training=chain)
    layout = RunLayout(args.run_dir, args.data_root or args.run_dir / "data")
    ensure_benchmarks(cfg, layout)
    log(f"benchmark stores ready in {layout.data_dir}")
    data = BenchmarkData(cfg, layout)
    light_training = {
        "epochs": args.epochs,
        "max_steps_per_epoch": args.steps,
        "best_metric": "val_task_loss",
        "best_mode": "min",
    }
    teacher, light = {}, {}
    for task in args.tasks:
        run = ensure_adapted(cfg, layout, "selfmask", task, data=data)
        log(f"teacher PRE-Net (Self-MaskTune) {task}: {'trained' if run.trained else 'loaded'}")
        teacher[task] = run.network
        run = ensure_light(cfg, layout, task, data=data, weights="best", training=light_training)
        history = ", ".join(
            f"e{row['epoch']} val_task_loss {row.get('val_task_loss', float('nan')):.4f}"
            for row in run.history
        )
        log(
            f"PRE-Net-Light {task}: {'trained' if run.trained else 'loaded'} "
            f"({run.checkpoint.name}; {history})"
        )
        light[task] = run.network
    if set(args.tasks) != {"cls", "reg"}:
        log(f"networks of {list(args.tasks)} ready; scoring needs both tasks")
        return 0
    gbm = fit_gbm(data, cfg, args.seed)
    log("gradient-boosting baseline fitted on the Full-IPR training split")

    predictors = {
        "PRE-Net (teacher)": two_network_predictor(teacher["cls"], teacher["reg"]),
        "PRE-Net-Light": two_network_predictor(light["cls"], light["reg"]),
        "GBM (per pixel)": baseline_predictor(gbm),
    }
    test = data.loader("fulldisc", "test", cfg.evaluation.batch_size)
    table = score_predictors(predictors, test, threshold=cfg.evaluation.threshold, seed=args.seed)
    log("scored on the Full-IPR test split")
    costs = {
        "PRE-Net (teacher)": pair_cost(teacher["cls"], teacher["reg"], args.tile),
        "PRE-Net-Light": pair_cost(light["cls"], light["reg"], args.tile),
    }
    samples, pixels = scored_pixels(test)

    print()
    t = cfg.training
    print(
        f"Chain epochs: teacher {t.teacher.epochs}, Stage I {t.distill.epochs}, "
        f"Stage II {t.adapt.epochs} (x {t.adapt.max_steps_per_epoch or 'all'} steps)"
    )
    print(
        f"PRE-Net-Light vs its teacher: profile {cfg.profile}, seed {args.seed}, Light "
        f"{args.epochs} epochs x {args.steps} steps x {cfg.training.adapt.batch_size} samples"
    )
    print(format_table(table, costs, samples, pixels))
    csi_t = table.loc["PRE-Net (teacher)", "csi"]
    csi_l = table.loc["PRE-Net-Light", "csi"]
    loss = (csi_t - csi_l) / csi_t if csi_t > 0 else float("nan")
    flop_ratio = costs["PRE-Net (teacher)"]["gflop"] / costs["PRE-Net-Light"]["gflop"]
    verdict = (
        "undefined: the teacher has no CSI"
        if not np.isfinite(loss)
        else "Light scores higher than its teacher"
        if loss < 0
        else ("meets" if loss <= CSI_GOAL else "misses")
    )
    print(
        f"Light's relative CSI loss vs the teacher: {100 * loss:.1f} % ({verdict}; goal "
        f"≤ {100 * CSI_GOAL:.0f} %); {flop_ratio:.1f}x fewer FLOPs per tile"
    )
    log("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
