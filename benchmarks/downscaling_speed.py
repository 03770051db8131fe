"""Speed of the downscalers: diffusion sampling per member, MAUNet vs MAUNet-Light throughput.

Prints, for the chosen profile's sizes (untrained weights: speed does not depend on them):

* PrecipDiff downscaling stage — seconds per 256 × 256 fine field per ensemble member with the
  EDM Heun sampler (``n_steps`` steps, 2·n_steps − 1 network evaluations);
* MAUNet and MAUNet-Light (×4, 64 × 64 → 256 × 256) — fields per second in eval mode, and the
  throughput ratio measured in the same run.

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
    from prelib.downscaling.edm import heun_sample
    from prelib.downscaling.maunet import MAUNet, MAUNetConfig, count_parameters
    from prelib.downscaling.precipdiff import PrecipDiff
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

    throughput = {}
    for name, mult in (("MAUNet", 1.0), ("MAUNet-Light", config.light_width_mult)):
        net = (
            MAUNet(
                MAUNetConfig(
                    base_width=config.maunet_width,
                    depth=config.maunet_depth,
                    factor=4,
                    width_mult=mult,
                )
            )
            .to(device)
            .eval()
        )
        inputs = torch.rand(args.batch, 1, 64, 64, device=device)
        with torch.no_grad():
            seconds = best_time(lambda n=net, x=inputs: n(x), args.repeats, sync)
        throughput[name] = args.batch / seconds
        print(f"{name} ({count_parameters(net):,} params): {throughput[name]:.2f} fields/s")
    ratio = throughput["MAUNet-Light"] / throughput["MAUNet"]
    print(f"MAUNet-Light / MAUNet throughput ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
