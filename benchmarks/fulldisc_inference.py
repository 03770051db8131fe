"""Full-disc inference speed: s/disc, s/tile, GFLOP/s against the machine's limit, time split.

One run prints, for each model profile (``paper``, ``demo``; ``light`` = PRE-Net-Light at demo
size), every number labelled with the device (CPU or GPU and its name):

* **limit** — a plain channels-last conv2d micro-benchmark (CPU, float32) or a large bf16
  matmul (GPU), measured in the same run: the GFLOP/s the hardware reaches on a kernel it likes;
* **params, GFLOP per 256² tile** — per network, counted by ``torch.utils.flop_counter`` (plus
  attention, analytically, where the counter has no formula for the CPU kernel);
* **s/tile** — the fused forward (classifier + regressor on one batch, LoRA merged, BatchNorm
  folded, channels-last, ``inference_mode``; bf16 autocast on CUDA) and the former settings
  (unmerged, unfolded, ``no_grad``, batch 4), and their ratio;
* **full disc** — ``prelib``'s streaming engine over a real-layout 2748² AGRI L1 file written
  by the readers' writers: wall s/disc, the split read / normalise / extract / forward / blend /
  write, tiles run and skipped, peak RSS and CUDA max allocated, achieved GFLOP/s (forward
  stage and whole disc) and its ratio to the limit. Where the disc is not run (paper size on
  CPU), s/disc is **extrapolated** from s/tile × tiles plus the measured non-forward stages, and
  labelled so;
* **ratios** on the same region: the fused engine vs the former two-pass path (two tiled passes,
  old stride-224 layout, old settings, composed at the end) and vs the former tile layout with
  the new settings;
* optionally ``torch.compile`` (first-call time and s/tile) and ONNX Runtime vs torch on CPU on
  the same tiles.

Usage::

    python benchmarks/fulldisc_inference.py                          # CPU: demo disc, paper tiles
    python benchmarks/fulldisc_inference.py --profiles demo light --compare-size 1024
    python benchmarks/fulldisc_inference.py --device cuda --disc paper demo --compile
    python benchmarks/fulldisc_inference.py --cost-table costs.md --gpu-json gpu.json

Each profile runs in its own process, so peak RSS is per profile. CPU timings depend on the
machine and its load; report them with the hardware. Imports only torch, numpy, scipy, h5py,
xarray and tqdm (NetCDF output needs netCDF4 or h5netcdf; otherwise the write stage keeps the
output in memory and says so).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from prelib.config import resolve

PROFILES = ("paper", "demo", "light")
DISC_SIZE = 2748


# ------------------------------------------------------------------------------------------
# Device, limits, FLOPs
# ------------------------------------------------------------------------------------------
def device_label(device) -> str:
    import torch

    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {torch.get_num_threads()} threads"


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def _median_time(fn, device, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine_limit(device) -> dict:
    """GFLOP/s of a plain conv2d (CPU, fp32, channels-last) or a big bf16 matmul (GPU)."""
    import torch

    gen = torch.Generator(device=device.type).manual_seed(0)
    if device.type == "cuda":
        n = 8192
        a = torch.randn(n, n, device=device, dtype=torch.bfloat16, generator=gen)
        b = torch.randn(n, n, device=device, dtype=torch.bfloat16, generator=gen)
        seconds = _median_time(lambda: a @ b, device, repeats=10, warmup=3)
        return {"kind": f"bf16 matmul {n}³", "gflops": 2 * n**3 / seconds / 1e9}
    best = 0.0
    for channels in (64, 128):
        conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).eval()
        conv = conv.to(memory_format=torch.channels_last)
        x = torch.randn(2, channels, 128, 128, generator=gen)
        x = x.contiguous(memory_format=torch.channels_last)
        flops = 2 * 2 * 128 * 128 * channels * channels * 9
        with torch.inference_mode():
            seconds = _median_time(lambda c=conv, x=x: c(x), device, repeats=5, warmup=2)
        best = max(best, flops / seconds / 1e9)
    return {"kind": "fp32 conv2d 3×3 channels-last (64/128 ch)", "gflops": best}


# ------------------------------------------------------------------------------------------
# Models and inputs
# ------------------------------------------------------------------------------------------
def build_retrieval(profile: str, seed: int = 0):
    """A Stage-II-shaped retrieval (random weights: speed does not depend on them)."""
    import torch

    from prelib.inference.composition import TwoNetworkRetrieval
    from prelib.models import apply_lora, get_model

    torch.manual_seed(seed)
    if profile == "light":
        nets = [get_model("prenet_light", resolve("demo").models, n_classes=n) for n in (2, 1)]
    else:
        models = resolve(profile).models
        lora = models.lora
        nets = []
        for n_classes in (2, 1):
            net = get_model("prenet", models, n_classes=n_classes, n_splits=1)
            apply_lora(net, lora.rank, lora.alpha, tuple(lora.targets))
            nets.append(net)
    return TwoNetworkRetrieval(nets[0].eval(), nets[1].eval())


def disc_file(directory: Path) -> Path:
    from prelib.writers.synthetic_disc import write_synthetic_disc

    existing = sorted(directory.glob("FY4A-_AGRI--_N_DISK_*.HDF"))
    return existing[0] if existing else write_synthetic_disc(directory)


def sample_tiles(source, count: int, tile: int):
    """``count`` normalised tiles of real disc data around the disc centre, (count, 8, t, t)."""
    import numpy as np
    import torch

    from prelib.conventions import IR_NORM

    height, width = source.shape
    y0 = max(0, height // 2 - tile)
    band = source.read(y0, min(height, y0 + 2 * tile))
    fill = source.fill_values()[:, None, None]
    band = np.where(np.isfinite(band), band, fill)
    band = (band - IR_NORM[0]) / IR_NORM[1]
    tiles = []
    for i in range(count):
        x = (width // 2 - 2 * tile + i * tile // 2) % max(1, width - tile)
        y = (i % 2) * (band.shape[1] - tile)
        tiles.append(band[:, y : y + tile, x : x + tile])
    return torch.as_tensor(np.stack(tiles), dtype=torch.float32)


# ------------------------------------------------------------------------------------------
# Measurements of one profile (run in a subprocess)
# ------------------------------------------------------------------------------------------
def _old_two_pass(retrieval, source, device, batch_size: int = 4) -> float:
    """The former path: fill + normalise the region in numpy, two tiled passes (stride layout,
    overlap 32, margin 8), compose at the end. Returns seconds."""
    import numpy as np

    from prelib.inference.composition import compose_precipitation
    from prelib.inference.retrieval import _fill_missing, normalize_ir
    from prelib.inference.tiling import predict_tiled

    start = time.perf_counter()
    height, _ = source.shape
    ir = source.read(0, height)
    filled, missing = _fill_missing(ir, "mask")
    x = normalize_ir(filled)
    del filled
    outputs = []
    for net in (retrieval.classifier, retrieval.regressor):
        outputs.append(
            predict_tiled(
                lambda b, n=net: n(b).logits,
                x,
                tile=256,
                overlap=32,
                margin=8,
                batch_size=batch_size,
                device=device,
                layout="stride",
            )
        )
    precip = compose_precipitation(outputs[0][None], outputs[1][None])[0, 0].numpy()
    precip[missing] = np.nan
    _sync(device)
    return time.perf_counter() - start


def measure_profile(profile: str, opts: dict) -> dict:
    import numpy as np
    import torch

    from prelib.inference.engine import InferenceSettings, default_batch_size, infer
    from prelib.inference.sources import AgriL1Source, ArraySource
    from prelib.inference.writers import MemoryWriter, writer_for
    from prelib.models.cost import forward_gflop
    from prelib.models.preparation import prepare_for_inference
    from prelib.runtime import select_device

    if opts["threads"]:
        torch.set_num_threads(opts["threads"])
    device = select_device(opts["device"])
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes (the engine sets it too)
    label = device_label(device)
    row: dict = {"profile": profile, "device": label, "device_type": device.type.upper()}
    tile = 256

    start = time.perf_counter()
    source = AgriL1Source(opts["disc_file"])
    row["open_s"] = time.perf_counter() - start

    original = build_retrieval(profile)
    row["params_per_network"] = [
        sum(p.numel() for p in net.parameters())
        for net in (original.classifier, original.regressor)
    ]
    model = prepare_for_inference(original, device)
    row["gflop_per_tile_per_network"] = [
        forward_gflop(net, tile, device) for net in (model.classifier, model.regressor)
    ]
    gflop_pair = sum(row["gflop_per_tile_per_network"])
    batch = opts["batch_size"] or default_batch_size(model, device)
    row["batch_size"] = batch
    autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    # ---- s/tile: fused forward with the new settings vs the former settings ----------------
    n_tiles = max(batch, opts["tiles"])
    tiles = sample_tiles(source, n_tiles, tile).to(device)
    batches = [tiles[i : i + batch] for i in range(0, n_tiles, batch)]

    def run_new():
        with torch.inference_mode(), torch.autocast(**autocast):
            for b in batches:
                model.raw(b.contiguous(memory_format=torch.channels_last))

    first = time.perf_counter()
    run_new()
    _sync(device)
    first = time.perf_counter() - first
    slow = first > 5.0  # paper size on CPU: no separate warm-up, few repeats
    repeats = 1 if slow else opts["repeats"]
    seconds = first if slow else _median_time(run_new, device, repeats, warmup=0)
    row["s_per_tile"] = seconds / n_tiles
    row["tiles_timed"] = n_tiles
    row["tile_gflops"] = gflop_pair / row["s_per_tile"]

    if not opts["skip_old_settings"]:
        old_batches = [tiles[i : i + 4] for i in range(0, n_tiles, 4)]

        def run_old():
            with torch.no_grad(), torch.autocast(**autocast):
                for b in old_batches:
                    original.to(device)(b)

        seconds_old = (
            _timed_once(run_old, device) if slow else _median_time(run_old, device, repeats)
        )
        row["s_per_tile_old_settings"] = seconds_old / n_tiles
        row["settings_ratio"] = row["s_per_tile"] / row["s_per_tile_old_settings"]
        original.to("cpu")

    # ---- full disc ---------------------------------------------------------------------------
    settings = InferenceSettings(batch_size=batch, sync_timing=opts["sync_timing"])
    if profile in opts["disc"]:
        out_dir = Path(opts["workdir"])
        writer_kind = opts["write"]
        if writer_kind == "netcdf":
            try:
                import netCDF4  # noqa: F401
            except ImportError:
                try:
                    import h5netcdf  # noqa: F401
                except ImportError:
                    writer_kind = "memory"
        writer = (
            MemoryWriter()
            if writer_kind == "memory"
            else writer_for(out_dir / f"{profile}_disc.{'zarr' if writer_kind == 'zarr' else 'nc'}")
        )
        if device.type == "cuda":  # warm the kernels on one band so the disc time is steady
            warm = ArraySource(source.read(1200, 1456), np.zeros(256), np.zeros(source.shape[1]))
            infer(model, warm, MemoryWriter(), settings)
        report, _ = infer(model, source, writer, settings, {"title": "benchmark"})
        row["disc"] = report.as_dict()
        row["disc"]["writer"] = writer_kind
        row["disc_s"] = report.wall_s
        if device.type == "cuda" and not settings.sync_timing:
            # Without synchronisation the device's work shows up in whichever stage waits for it:
            # a second run, synchronised after every stage, gives the split (and is slower).
            synced = dataclasses.replace(settings, sync_timing=True)
            split, _ = infer(model, source, MemoryWriter(), synced)
            row["disc"]["seconds_unsynced"] = report.seconds
            row["disc"]["seconds"] = split.seconds
            row["disc"]["synced_wall_s"] = split.wall_s
            report = split
        compute = report.wall_s - report.seconds["read"] - report.seconds["write"]
        row["disc_compute_s"] = compute
        row["disc_forward_gflops"] = report.tiles_run * gflop_pair / report.seconds["forward"]
        row["disc_overall_gflops"] = report.tiles_run * gflop_pair / row["disc_s"]
        row["disc_tflop"] = report.tiles_run * gflop_pair / 1e3
    else:
        from prelib.inference.tiling import tile_starts

        starts = tile_starts(DISC_SIZE, tile, settings.overlap)
        valid = np.zeros(source.shape, bool)
        for y0 in range(0, source.shape[0], 512):
            valid[y0 : y0 + 512] = np.isfinite(source.read(y0, y0 + 512)).all(axis=0)
        run = sum(valid[y : y + tile, x : x + tile].any() for y in starts for x in starts)
        row["disc_tiles_run"] = int(run)
        row["disc_s_extrapolated"] = run * row["s_per_tile"]
        row["disc_tflop"] = run * gflop_pair / 1e3

    # ---- fused vs the former two-pass path and vs the former layout, on one region ----------
    if profile in opts["compare"]:
        size = min(opts["compare_size"], DISC_SIZE)
        y0 = (source.shape[0] - size) // 2
        region = ArraySource(
            source.read(y0, y0 + size)[:, :, y0 : y0 + size],
            np.zeros(size, np.float32),
            np.zeros(size, np.float32),
        )
        cmp: dict = {"region": f"{size}x{size} at the disc centre"}
        old_layout = InferenceSettings(
            overlap=32, batch_size=batch, layout="stride", skip_empty=False
        )
        fp32 = dataclasses.replace(settings, dtype="float32")
        old_model = original.to(device)

        def fused():
            report, _ = infer(model, region, MemoryWriter(), settings)
            cmp["fused_tiles"] = report.tiles_run
            return report.wall_s

        def former_layout():
            report, _ = infer(model, region, MemoryWriter(), old_layout)
            cmp["old_layout_tiles"] = report.tiles_run
            return report.wall_s

        variants = {
            "fused_s": fused,
            "old_layout_s": former_layout,
            "old_two_pass_s": lambda: _old_two_pass(old_model, region, device),
        }
        if device.type == "cuda":  # the former path ran in float32: the same precision too
            variants["fused_fp32_s"] = lambda: infer(model, region, MemoryWriter(), fp32)[0].wall_s
        # Interleaved repeats (A B C, C B A, ...), best of each: load on a shared machine drifts.
        times: dict[str, list[float]] = {name: [] for name in variants}
        for repeat in range(opts["compare_repeats"]):
            order = list(variants) if repeat % 2 == 0 else list(reversed(variants))
            for name in order:
                times[name].append(variants[name]())
        cmp.update({name: min(values) for name, values in times.items()})
        cmp["repeats"] = opts["compare_repeats"]
        original.to("cpu")
        cmp["fused_vs_old_layout"] = cmp["fused_s"] / cmp["old_layout_s"]
        cmp["fused_vs_old_two_pass"] = cmp["fused_s"] / cmp["old_two_pass_s"]
        row["compare"] = cmp

    # ---- ONNX Runtime vs torch on the CPU, same tiles ----------------------------------------
    if opts["onnx"] and profile in opts["onnx"]:
        row["onnx"] = _onnx_vs_torch(original, tiles.cpu(), opts)

    # ---- torch.compile last: its first call can take minutes ----------------------------------
    if profile in opts["compile"]:
        compiled = torch.compile(model.raw, dynamic=False)
        start = time.perf_counter()
        with torch.inference_mode(), torch.autocast(**autocast):
            compiled(batches[0].contiguous(memory_format=torch.channels_last))
        _sync(device)
        row["compile_first_call_s"] = time.perf_counter() - start

        def run_compiled():
            with torch.inference_mode(), torch.autocast(**autocast):
                for b in batches:
                    if b.shape[0] == batch:
                        compiled(b.contiguous(memory_format=torch.channels_last))

        full = sum(b.shape[0] == batch for b in batches) * batch
        row["s_per_tile_compiled"] = _median_time(run_compiled, device, repeats) / max(full, 1)

    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == "cuda":
        row["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return row


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "unknown"


def _timed_once(fn, device) -> float:
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _onnx_vs_torch(retrieval, tiles, opts) -> dict:
    import numpy as np
    import torch

    try:
        import onnxruntime as ort
    except ImportError:
        return {"error": "onnxruntime not installed"}
    from prelib.inference.export import export_onnx
    from prelib.models.preparation import prepare_for_inference

    threads = opts["threads"] or torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(retrieval, Path(tmp) / "retrieval.onnx", tile=tiles.shape[-1])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        batch = tiles[:1].numpy()
        session.run(None, {"ir": batch})
        start = time.perf_counter()
        outs = [session.run(None, {"ir": tiles[i : i + 1].numpy()})[0] for i in range(len(tiles))]
        ort_s = (time.perf_counter() - start) / len(tiles)
    model = prepare_for_inference(retrieval, "cpu")
    with torch.inference_mode():
        model(tiles[:1].contiguous(memory_format=torch.channels_last))
        start = time.perf_counter()
        ref = [
            model(tiles[i : i + 1].contiguous(memory_format=torch.channels_last)).numpy()
            for i in range(len(tiles))
        ]
        torch_s = (time.perf_counter() - start) / len(tiles)
    diff = float(np.max(np.abs(np.concatenate(outs) - np.concatenate(ref))))
    return {
        "ort_s_per_tile": ort_s,
        "torch_s_per_tile": torch_s,
        "ort_vs_torch": ort_s / torch_s,
        "max_abs_diff_mm_h": diff,
        "threads": threads,
    }


def _worker(queue, profile, opts):
    try:
        queue.put(measure_profile(profile, opts))
    except Exception as err:  # report and keep the other profiles
        import traceback

        queue.put({"profile": profile, "error": repr(err), "trace": traceback.format_exc()})


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------
def print_row(row: dict, limit: dict, tag: str) -> None:
    p = row["profile"]
    if "error" in row:
        print(f"[{tag}] {p}: FAILED {row['error']}\n{row.get('trace', '')}")
        return
    params = " + ".join(f"{n / 1e6:.2f} M" for n in row["params_per_network"])
    gflop = " + ".join(f"{g:.1f}" for g in row["gflop_per_tile_per_network"])
    print(f"\n[{tag}] profile {p}: params {params}; GFLOP per 256² tile {gflop} (cls + reg)")
    ratio = row["tile_gflops"] / limit["gflops"]
    print(
        f"[{tag}]   s/tile fused {row['s_per_tile']:.4f} (batch {row['batch_size']}, "
        f"{row['tiles_timed']} tiles) = {row['tile_gflops']:.1f} GFLOP/s = {ratio:.2f} x limit"
    )
    if "s_per_tile_old_settings" in row:
        print(
            f"[{tag}]   s/tile former settings {row['s_per_tile_old_settings']:.4f}: new/old = "
            f"{row['settings_ratio']:.2f}"
        )
    if "s_per_tile_compiled" in row:
        print(
            f"[{tag}]   torch.compile: first call {row['compile_first_call_s']:.1f} s, s/tile "
            f"{row['s_per_tile_compiled']:.4f} "
            f"({row['s_per_tile_compiled'] / row['s_per_tile']:.2f} x eager)"
        )
    if "disc" in row:
        d = row["disc"]
        split = ", ".join(f"{k} {v:.2f}" for k, v in d["seconds"].items())
        cuda = (
            f", CUDA max allocated {d['cuda_max_allocated_mb']:.0f} MB"
            if d["cuda_max_allocated_mb"] is not None
            else ""
        )
        print(
            f"[{tag}]   full disc {d['shape'][0]}x{d['shape'][1]}: {row['disc_s']:.2f} s/disc "
            f"({row['disc_compute_s']:.2f} s without read/write); tiles {d['tiles_run']} run, "
            f"{d['tiles_skipped']} skipped of {d['tiles_total']}; {row['disc_tflop']:.1f} TFLOP"
        )
        synced = " (from a second run synchronised per stage)" if "synced_wall_s" in d else ""
        print(f"[{tag}]   split (s){synced}: {split}; writer {d['writer']}")
        print(
            f"[{tag}]   achieved {row['disc_forward_gflops']:.1f} GFLOP/s in forward "
            f"({row['disc_forward_gflops'] / limit['gflops']:.2f} x limit), "
            f"{row['disc_overall_gflops']:.1f} GFLOP/s over the disc "
            f"({row['disc_overall_gflops'] / limit['gflops']:.2f} x limit); peak RSS "
            f"{d['peak_rss_mb']:.0f} MB{cuda}"
        )
    else:
        print(
            f"[{tag}]   full disc EXTRAPOLATED (not run): {row['disc_tiles_run']} tiles x s/tile "
            f"= {row['disc_s_extrapolated']:.0f} s/disc forward only; "
            f"{row['disc_tflop']:.1f} TFLOP"
        )
    if "compare" in row:
        c = row["compare"]
        print(
            f"[{tag}]   {c['region']} (best of {c['repeats']}): fused {c['fused_s']:.2f} s "
            f"({c['fused_tiles']} tiles); "
            f"former layout {c['old_layout_s']:.2f} s ({c['old_layout_tiles']} tiles); former "
            f"two-pass path {c['old_two_pass_s']:.2f} s"
        )
        print(
            f"[{tag}]   ratio fused / former layout {c['fused_vs_old_layout']:.2f}; "
            f"fused / former two-pass {c['fused_vs_old_two_pass']:.2f}"
        )
        if "fused_fp32_s" in c:
            print(
                f"[{tag}]   fused in float32 {c['fused_fp32_s']:.2f} s: fused fp32 / former "
                f"two-pass (fp32) {c['fused_fp32_s'] / c['old_two_pass_s']:.2f}"
            )
    if "onnx" in row:
        o = row["onnx"]
        if "error" in o:
            print(f"[CPU]   ONNX: {o['error']}")
        else:
            print(
                f"[CPU]   ONNX Runtime {o['ort_s_per_tile']:.4f} s/tile vs torch "
                f"{o['torch_s_per_tile']:.4f} s/tile ({o['ort_vs_torch']:.2f} x), batch 1, "
                f"{o['threads']} threads; max |diff| {o['max_abs_diff_mm_h']:.2e} mm h-1"
            )
    print(f"[{tag}]   process peak RSS {row['peak_rss_mb']:.0f} MB")


def cost_table(cpu_rows: list[dict], gpu_rows: list[dict] | None) -> str:
    """The README's cost table (markdown) from CPU rows and, when given, GPU rows."""
    names = {
        "paper": "PRE-Net (paper size)",
        "demo": "PRE-Net (demo size)",
        "light": "PRE-Net-Light (demo)",
    }
    cpu = {r["profile"]: r for r in cpu_rows if "error" not in r}
    gpu = {r["profile"]: r for r in (gpu_rows or []) if "error" not in r}
    lines = [
        "| retrieval (classifier + regressor) | params | GFLOP per 256² tile | CPU s/tile | "
        "CPU s/disc | GPU ms/tile | GPU s/disc |",
        "|---|---|---|---|---|---|---|",
    ]
    for profile in [p for p in PROFILES if p in cpu or p in gpu]:
        row = cpu.get(profile) or gpu[profile]
        params = sum(row["params_per_network"]) / 1e6
        gflop = sum(row["gflop_per_tile_per_network"])
        c, g = cpu.get(profile), gpu.get(profile)
        c_tile = f"{c['s_per_tile']:.3f}" if c else "–"
        if c and "disc_s" in c:
            c_disc = f"{c['disc_s']:.0f}"
        elif c:
            c_disc = f"≈ {c['disc_s_extrapolated']:.0f} (extrapolated)"
        else:
            c_disc = "–"
        g_tile = f"{1e3 * g['s_per_tile']:.1f}" if g else "–"
        g_disc = f"{g['disc_s']:.2f}" if g and "disc_s" in g else "–"
        lines.append(
            f"| {names[profile]} | {params:.2f} M | {gflop:.1f} | {c_tile} | {c_disc} | "
            f"{g_tile} | {g_disc} |"
        )
    return "\n".join(lines)


def _write_json(path: Path | None, device, tag: str, limit: dict, rows: list[dict]) -> None:
    if path is None:
        return
    import torch

    payload = {
        "device": device_label(device),
        "device_type": tag,
        "limit": limit,
        "rows": rows,
        "torch": torch.__version__,
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": _load(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["demo", "paper"], choices=PROFILES)
    parser.add_argument(
        "--disc",
        nargs="*",
        default=None,
        choices=PROFILES,
        help="profiles run over a whole disc (default: all on GPU, all but paper on CPU)",
    )
    parser.add_argument(
        "--compare",
        nargs="*",
        default=None,
        choices=PROFILES,
        help="profiles compared with the former layout / two-pass path (default: demo)",
    )
    parser.add_argument(
        "--compare-size", type=int, default=DISC_SIZE, help="square region of the comparison"
    )
    parser.add_argument(
        "--compare-repeats", type=int, default=1, help="interleaved repeats (best of)"
    )
    parser.add_argument("--tiles", type=int, default=4, help="tiles timed for s/tile")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--compile", nargs="*", default=None, choices=PROFILES, help="also time torch.compile"
    )
    parser.add_argument(
        "--onnx", nargs="*", default=None, choices=PROFILES, help="ONNX Runtime vs torch (CPU)"
    )
    parser.add_argument("--skip-old-settings", action="store_true")
    parser.add_argument("--sync-timing", action="store_true", help="exact CUDA stage split")
    parser.add_argument("--write", choices=("netcdf", "zarr", "memory"), default="netcdf")
    parser.add_argument("--input", type=Path, default=None, help="an AGRI L1 full-disc file")
    parser.add_argument("--workdir", type=Path, default=None, help="for the disc file, output")
    parser.add_argument("--json", type=Path, default=None, help="write all numbers here")
    parser.add_argument("--cost-table", type=Path, default=None, help="write the markdown table")
    parser.add_argument("--gpu-json", type=Path, default=None, help="GPU run's --json output")
    args = parser.parse_args(argv)

    import torch

    from prelib.runtime import select_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = select_device(args.device)
    tag = "GPU" if device.type == "cuda" else "CPU"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="prelib_fulldisc_"))
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    disc = args.input or disc_file(workdir)
    print(f"[{tag}] input: {disc.name} ({time.perf_counter() - start:.1f} s to get)")
    limit = machine_limit(device)
    print(f"[{tag}] {device_label(device)}; load average {_load()}")
    print(f"[{tag}] limit: {limit['kind']} = {limit['gflops']:.1f} GFLOP/s")
    if args.disc is None:
        args.disc = list(PROFILES) if device.type == "cuda" else ["demo", "light"]
    if args.compare is None:
        args.compare = ["demo"]
    opts = {
        "device": args.device,
        "threads": args.threads,
        "tiles": args.tiles,
        "repeats": args.repeats,
        "batch_size": args.batch_size,
        "compile": args.compile or [],
        "onnx": args.onnx or [],
        "skip_old_settings": args.skip_old_settings,
        "sync_timing": args.sync_timing,
        "write": args.write,
        "disc": args.disc,
        "compare": args.compare,
        "compare_size": args.compare_size,
        "compare_repeats": args.compare_repeats,
        "disc_file": str(disc),
        "workdir": str(workdir),
    }
    ctx = mp.get_context("spawn")
    rows = []
    for profile in args.profiles:
        queue = ctx.Queue()
        proc = ctx.Process(target=_worker, args=(queue, profile, opts))
        proc.start()
        row = queue.get()
        proc.join()
        rows.append(row)
        print_row(row, limit, tag)
        sys.stdout.flush()
        if args.json:  # after every profile, so a run cut short keeps what it measured
            _write_json(args.json, device, tag, limit, rows)
    _write_json(args.json, device, tag, limit, rows)
    if tag == "GPU":
        table = cost_table([], rows)
    else:
        gpu_rows = json.loads(args.gpu_json.read_text())["rows"] if args.gpu_json else None
        table = cost_table(rows, gpu_rows)
    print(f"\n[{tag}] load average at the end {_load()}")
    print(f"\n[{tag}] cost table ({device_label(device)}):\n{table}")
    if args.cost_table:
        args.cost_table.write_text(table + "\n")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
