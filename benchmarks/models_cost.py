"""Cost of the networks per 256 × 256 tile: FLOPs, forward time, training-step time, peak memory.

Prints one row per (profile, model):

* ``GFLOP/tile`` — forward FLOPs of one 256 × 256 tile in evaluation mode, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matmuls; 1 MAC = 2 FLOPs;
  element-wise ops are not counted). Attention is added analytically (4 · N² · d per call) where
  FlopCounterMode has no formula for the device's attention kernel (the CPU flash kernel).
* ``fwd s/tile`` — median wall time of an evaluation forward pass of a batch of ``--batch`` tiles,
  divided by the batch, in float32 on the chosen device.
* ``train s/batch`` — median wall time of a training forward + backward (masks, RMKD views and
  DAWE active) on a batch of ``--train-batch`` tiles; on CUDA under bf16 autocast.
* ``peak MB`` — CPU: the growth of the process's peak resident set size (``ru_maxrss``) while the
  model is built and run, measured in a fresh subprocess per row; CUDA:
  ``torch.cuda.max_memory_allocated`` during the training step.

Usage::

    python benchmarks/models_cost.py                       # paper + demo, CPU or CUDA
    python benchmarks/models_cost.py --profiles tiny --shape 256 49 --train-batch 4

CPU timings depend on the machine and its load; report them with the hardware.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import time

MODELS = ("teacher", "prenet", "unet")


def _inputs(name: str, batch: int, shape: tuple[int, int], device):
    import torch

    from prelib.conventions import N_GEO, N_IR, N_PMW, N_PR

    gen = torch.Generator().manual_seed(0)
    if name == "teacher":
        sizes = {"ir": N_IR, "pmw": N_PMW, "pr": N_PR, "geo": N_GEO}
        return {k: torch.rand(batch, c, *shape, generator=gen).to(device) for k, c in sizes.items()}
    return torch.rand(batch, N_IR, *shape, generator=gen).to(device)


def _timed(fn, repeats: int, device) -> float:
    import torch

    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sdpa_is_counted(device) -> bool:
    """Whether FlopCounterMode counts ``scaled_dot_product_attention`` on ``device``."""
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    q = torch.zeros(1, 1, 8, 8, device=device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        F.scaled_dot_product_attention(q, q, q)
    return counter.get_total_flops() > 0


def measure(name: str, profile: str, args: dict) -> dict:
    """Measure one (model, profile); runs in its own process so peak RSS is per row."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from prelib.config import resolve
    from prelib.models import get_model
    from prelib.runtime import setup

    device = setup(seed=0, device=args["device"], threads=args["threads"])
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shape = tuple(args["shape"])
    model = get_model(name, resolve(profile).models).to(device)
    params = sum(p.numel() for p in model.parameters())

    call = model  # the teacher takes its mapping of modalities, students one IR tensor
    model.eval()
    one = _inputs(name, 1, shape, device)
    hooks = []
    attention_flops = [0]
    if not _sdpa_is_counted(device):
        # FlopCounterMode has no formula for the CPU flash-attention kernel: count Q·Kᵀ and A·V of
        # every attention call analytically (2 FLOPs per multiply-add, 2 matmuls of N² · d).
        from prelib.models.vit import Attention

        def count(module, inputs, output):
            batch, tokens, dim = inputs[0].shape
            attention_flops[0] += 4 * batch * tokens * tokens * dim

        hooks = [
            m.register_forward_hook(count) for m in model.modules() if isinstance(m, Attention)
        ]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call(one)
    for hook in hooks:
        hook.remove()
    flops = counter.get_total_flops() + attention_flops[0]

    batch = _inputs(name, args["batch"], shape, device)
    with torch.no_grad():
        call(batch)  # warm-up
        forward = _timed(lambda: call(batch), args["repeats"], device) / args["batch"]

    model.train()
    train_batch = _inputs(name, args["train_batch"], shape, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = call(train_batch)
            loss = out.logits.float().square().mean()
            if hasattr(out, "self_consistency"):
                loss = loss + out.self_consistency.float()
        loss.backward()
        model.zero_grad(set_to_none=True)

    train = float("nan")
    if not args["skip_train"]:
        step()  # warm-up
        train = _timed(step, args["repeats"], device)
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        # ru_maxrss is in KiB on Linux.
        peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    return {
        "profile": profile,
        "model": name,
        "params": params,
        "gflop_per_tile": flops / 1e9,
        "forward_s_per_tile": forward,
        "train_s_per_batch": train,
        "peak_mb": peak_mb,
        "device": str(device),
    }


def _worker(queue, name, profile, args):
    try:
        queue.put(measure(name, profile, args))
    except Exception as err:  # report and keep the other rows
        queue.put({"profile": profile, "model": name, "error": repr(err)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["paper", "demo"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--shape", nargs=2, type=int, default=[256, 256], metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=1, help="tiles per timed forward")
    parser.add_argument("--train-batch", type=int, default=8, help="tiles per training step")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-train", action="store_true", help="no training-step timing")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    opts = parser.parse_args(argv)
    args = vars(opts)

    ctx = mp.get_context("spawn")
    rows = []
    header = (
        f"{'profile':8} {'model':8} {'params':>12} {'GFLOP/tile':>11} {'fwd s/tile':>11} "
        f"{'train s/batch':>14} {'peak MB':>9}  device"
    )
    print(f"tile {opts.shape[0]}x{opts.shape[1]}, train batch {opts.train_batch}")
    print(header)
    for profile in opts.profiles:
        for name in opts.models:
            queue = ctx.Queue()
            proc = ctx.Process(target=_worker, args=(queue, name, profile, args))
            proc.start()
            row = queue.get()
            proc.join()
            rows.append(row)
            if "error" in row:
                print(f"{profile:8} {name:8} failed: {row['error']}")
                continue
            print(
                f"{profile:8} {name:8} {row['params']:>12,} {row['gflop_per_tile']:>11.2f} "
                f"{row['forward_s_per_tile']:>11.3f} {row['train_s_per_batch']:>14.3f} "
                f"{row['peak_mb']:>9.0f}  {row['device']}",
                flush=True,
            )
    if opts.json:
        from prelib.atomic import write_json

        write_json(opts.json, rows)
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
