"""Speed of the downscalers: diffusion sampling per member, MAUNet vs MAUNet-Light throughput.

Prints, for the chosen profile's sizes (untrained weights: speed does not depend on them):

* PrecipDiff downscaling stage — seconds per 256 × 256 fine field per ensemble member with the
  EDM Heun sampler (``n_steps`` steps, 2·n_steps − 1 network evaluations);
* the downscaling cost table — MAUNet and MAUNet-Light (uniform ``width_mult`` and the tapered
  default) at ×10, 24 × 24 → 240 × 240 (the profile's widths) and at the paper's widths: parameters,
  GFLOPs per field (``torch.utils.flop_counter``), best wall time per field in eval mode, and
  each one's ratio to MAUNet, measured in the same run (issue: MAUNet-Light must be ≤ 0.5×
  MAUNet in FLOPs and CPU time, not only in parameters).

Usage::

    python benchmarks/downscaling_speed.py --profile demo [--device cuda] [--threads 2]

Timings on a shared CPU are noisy; repeat and take the best (``--repeats``).
"""

from __future__ import annotations

import argparse
import time

import torch


def best_time(function, repeats: int, sync) -> float:
    """Best wall time of ``repeats`` calls after one warm-up call."""
    function()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        sync()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--steps", type=int, default=18)
    parser.add_argument("--batch", type=int, default=4, help="fields per MAUNet call")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from prelib.downscaling.config import load_downscaling_config
    from prelib.models.edm import heun_sample
    from prelib.models.maunet import MAUNet, MAUNetConfig, count_parameters
    from prelib.models.precipdiff import PrecipDiff
    from prelib.runtime import setup

    device = setup(0, args.device, args.threads)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    config = load_downscaling_config(args.profile, n_steps=args.steps)
    print(f"profile {args.profile}, device {device}, torch threads {torch.get_num_threads()}")

    model = PrecipDiff(config.factor, config.unet_config(), config.edm_config()).to(device).eval()
    stage = model.downscaling
    cond = torch.rand(1, 1, 256, 256, device=device)
    seconds = best_time(
        lambda: heun_sample(stage.denoiser, cond, args.members, 0, config.edm_config()),
        args.repeats,
        sync,
    )
    print(
        f"PrecipDiff downscaling stage ({count_parameters(stage):,} params): "
        f"{seconds / args.members:.3f} s per 256x256 field per member "
        f"({args.steps} Heun steps, {2 * args.steps - 1} evaluations, "
        f"{args.members} members batched)"
    )

    from torch.utils.flop_counter import FlopCounterMode

    print("\ndownscaling cost table (x10, 24x24 -> 240x240, eval mode, best of repeats)")
    print(
        "| model | widths | params | GFLOP/field | ms/field "
        "| params ratio | FLOP ratio | time ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size_name, width, depth in (
        (args.profile, config.maunet_width, config.maunet_depth),
        ("paper", 64, 4),
    ):
        variants = {
            "MAUNet": {},
            "MAUNet-Light uniform 0.75": {"width_mult": 0.75},
            "MAUNet-Light (default)": {
                "width_mult": config.light_width_mult,
                "taper": config.light_taper,
            },
        }
        rows = {}
        batch = args.batch if size_name != "paper" else 1
        inputs = torch.rand(batch, 1, 24, 24, device=device)
        for name, overrides in variants.items():
            net = MAUNet(MAUNetConfig(base_width=width, depth=depth, factor=10, **overrides))
            net = net.to(device).eval()
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                net(inputs)
            with torch.no_grad():
                seconds = best_time(lambda n=net, x=inputs: n(x), args.repeats, sync)
            rows[name] = (
                net.config.widths(),
                count_parameters(net),
                counter.get_total_flops() / batch / 1e9,
                seconds / batch * 1e3,
            )
        base = rows["MAUNet"]
        for name, (widths, params, gflops, ms) in rows.items():
            print(
                f"| {name} ({size_name}) | {'-'.join(map(str, widths))} | {params:,} | "
                f"{gflops:.3f} | {ms:.1f} | {params / base[1]:.2f} | {gflops / base[2]:.2f} | "
                f"{ms / base[3]:.2f} |"
            )


if __name__ == "__main__":
    main()
