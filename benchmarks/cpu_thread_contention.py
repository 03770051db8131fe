"""Seconds per training step of the demo UNet under CPU contention, by OpenMP wait policy.

torch's CPU kernels run on OpenMP threads. With the default (active) wait policy an idle thread
spins at a barrier; when another process competes for the cores — a second notebook, a dask
worker, a test run — every barrier waits for a descheduled thread and small kernels become many
times slower. ``OMP_WAIT_POLICY=PASSIVE`` (what ``import prelib`` sets unless the user set it)
makes waiting threads sleep instead.

Each variant runs in a fresh interpreter (the policy is read when OpenMP starts), optionally
next to a busy-loop process that competes for one core:

    python benchmarks/cpu_thread_contention.py --steps 5

Prints one line per (competitor, policy, threads); nothing is asserted. Timings on shared
machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

CHILD = r"""
import sys, time, torch
from prelib.config import resolve
from prelib.models import get_student
threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = get_student("none", resolve("demo").models, n_classes=1)
optimiser = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.randn(4, 8, 256, 49)
def step():
    loss = model(x).logits.float().pow(2).mean()
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
step()
start = time.perf_counter()
for _ in range(steps):
    step()
print((time.perf_counter() - start) / steps)
"""


def _run(policy: str, threads: int, steps: int) -> float:
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(threads), str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, demo UNet, batch 4 x 8 x 256 x 49, Adam; s/step")
    for competitor in (False, True):
        burner = None
        if competitor:
            burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(0.5)
        try:
            for policy in ("ACTIVE", "PASSIVE"):
                for threads in (1, 2):
                    seconds = _run(policy, threads, args.steps)
                    label = "with a busy competitor" if competitor else "no competitor"
                    print(
                        f"{label:24s} OMP_WAIT_POLICY={policy:8s} threads={threads}: "
                        f"{seconds:.3f} s/step",
                        flush=True,
                    )
        finally:
            if burner is not None:
                burner.kill()


if __name__ == "__main__":
    main()
