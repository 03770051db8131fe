"""PRE-Net-Light's skill against its teacher: the adapted PRE-Net, on the Full-IPR splits.

One run compares distillation recipes of PRE-Net-Light over one or more seeds:

1. resolves the run configuration of ``--profile`` (default ``demo``) per seed and ensures, in
   ``RUN_DIR/seed-<seed>`` (a keyed run layout), the benchmark stores and the Self-MaskTune
   PRE-Net pair (classifier + regressor) with the workflow layer, which trains the demo chain
   (teacher → CoMWE student → Self-MaskTune) when missing and only loads finished networks
   (``best.pt``, picked on validation as in Table 5, unless ``--teacher-weights last``);
2. distils PRE-Net-Light for both tasks from that teacher on the Full-IPR training split, once
   per ``--recipe`` (:func:`prelib.workflow.ensure_light`; the validation split picks
   ``best.pt`` by the profile's ``best_metric``, the task loss at demo). A recipe changes
   fields of the ``light_distill`` model section (:class:`prelib.models.config.
   LightDistillConfig`: ``weighting``, ``response_weight``, ``feature_weight``,
   ``temperature``, ``level_weights`` as ``1/2/4``, ``gradnorm_every``,
   ``match_rain_fraction``) and of Light's schedule
   ``cfg.training.light`` (``epochs``, ``steps``, ``lr``, ``best_metric``, e.g. ``val_csi``
   with ``best_mode=max``; ``--epochs`` / ``--steps`` change
   every recipe's); each recipe has its own keyed run folder next to the shared teacher chain;
3. fits the per-pixel gradient-boosting baseline on the Full-IPR training split, for reference
   (``--no-gbm`` skips it);
4. scores every retrieval on the Full-IPR **validation** and **test** splits with the scoring of
   Table 5 (:func:`prelib.evaluation.benchmark.score_predictors`: pooled over the pixels whose
   label is valid and whose IR inputs are all finite, rain threshold of the evaluation profile);
   scores are cached in ``RUN_DIR/seed-<seed>/light_skill_scores.json`` by the networks'
   run keys, so a later call with more seeds or recipes only scores what is new;
5. prints per seed: parameters and GFLOP per 256² tile of each pair, validation CSI, the test
   metrics (RMSE, CC, POD, FAR, CSI, CSI-4, CSI-8), the classifier's rain fraction against the
   teacher's and the relative CSI loss against the teacher; over the seeds: mean ± std, and the
   recipe with the best mean **validation** CSI with its test loss (goal ≤ 3 %).

Usage::

    nice -n 10 python benchmarks/prenet_light_skill.py outputs/light-skill --seeds 0 1 2 \
        --recipe fixed:weighting=fixed,response_weight=1,feature_weight=1,temperature=3 \
        --recipe profile --threads 1

``profile`` is the profile's own ``light_distill`` section. Seeds can also run as separate
processes (one ``--seeds`` each, same RUN_DIR) followed by one call with every seed, which then
only loads and reads cached scores. Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch

CSI_GOAL = 0.03
"""Goal of issue 16: at most 3 % relative CSI loss of PRE-Net-Light against its teacher."""

METRIC_COLUMNS = ("rmse", "cc", "pod", "far", "csi", "csi4", "csi8")
TEACHER = "PRE-Net (teacher)"
GBM = "GBM (per pixel)"
TRAINING_FIELDS = {
    "epochs": "epochs",
    "steps": "max_steps_per_epoch",
    "lr": "lr",
    "best_metric": "best_metric",
    "best_mode": "best_mode",
}
"""Recipe keys that change Light's training (``cfg.training.light`` fields)."""


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


def _value(text: str):
    """A recipe value: a number, a ``/``-separated tuple of numbers, or a word."""
    if "/" in text:
        return tuple(float(v) for v in text.split("/"))
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_recipe(text: str) -> tuple[str, dict, dict]:
    """``NAME[:key=value,...]`` → (name, ``light_distill`` overrides, training overrides).

    Raises ``ValueError`` naming an unknown key or a malformed item.
    """
    from prelib.models.config import LightDistillConfig

    name, _, items = text.partition(":")
    if not name:
        raise ValueError(f"recipe {text!r} has no name (NAME[:key=value,...])")
    fields = {f.name for f in dataclasses.fields(LightDistillConfig)}
    distill, training = {}, {}
    for item in filter(None, items.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"recipe {name!r}: {item!r} is not key=value")
        if key in TRAINING_FIELDS:
            training[TRAINING_FIELDS[key]] = _value(value)
        elif key in fields:
            distill[key] = _value(value)
        else:
            raise ValueError(
                f"recipe {name!r}: unknown key {key!r}; choose from "
                f"{sorted(fields | set(TRAINING_FIELDS))}"
            )
    return name, distill, training


class ScoreCache:
    """Scores of (split, networks' run keys) in a JSON file, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.scores = json.loads(path.read_text()) if path.is_file() else {}

    def get(self, key: str):
        return self.scores.get(key)

    def put(self, key: str, scores: dict) -> None:
        from prelib.atomic import atomic_path

        self.scores[key] = scores
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path, overwrite=True) as tmp:  # the benchmark's own cache
            Path(tmp).write_text(json.dumps(self.scores, indent=1))


def rain_fractions(history: list[dict]) -> tuple[float, float]:
    """The classifier's last validated rain fractions: (student, teacher)."""
    rows = [r for r in history if np.isfinite(r.get("val_student_rain_fraction", np.nan))]
    if not rows:
        return float("nan"), float("nan")
    return float(rows[-1]["val_student_rain_fraction"]), float(
        rows[-1]["val_teacher_rain_fraction"]
    )


def relative_loss(teacher_csi: float, light_csi: float) -> float:
    """(CSI_teacher − CSI_Light) / CSI_teacher; NaN when the teacher has no CSI."""
    return (teacher_csi - light_csi) / teacher_csi if teacher_csi > 0 else float("nan")


def format_seed(records: list[dict]) -> str:
    """One seed's results as Markdown (one row per method)."""
    metrics = [c.upper().replace("CSI4", "CSI-4").replace("CSI8", "CSI-8") for c in METRIC_COLUMNS]
    header = ["method", "params", "GFLOP/tile", "val CSI", *metrics, "rain frac.", "CSI loss"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in records:
        cost = r.get("cost")
        values = [f"{r['test'][c]:.3f}" for c in METRIC_COLUMNS]
        frac = r.get("rain_fraction")
        loss = r.get("loss_test")
        lines.append(
            "| "
            + " | ".join(
                [
                    r["method"],
                    f"{cost['params'] / 1e6:.2f} M" if cost else "–",
                    f"{cost['gflop']:.2f}" if cost else "–",
                    f"{r['val']['csi']:.3f}",
                    *values,
                    f"{frac[0]:.3f} (teacher {frac[1]:.3f})" if frac else "–",
                    f"{100 * loss:.1f} %" if loss is not None else "–",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def format_summary(by_seed: dict[int, list[dict]]) -> tuple[str, str | None]:
    """Mean ± std over seeds per method, and the Light recipe with the best mean val CSI."""
    methods = [r["method"] for r in next(iter(by_seed.values()))]
    header = ["method", "seeds", "val CSI", "test CSI", "POD", "FAR", "RMSE", "val loss", "loss"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def stat(values) -> str:
        values = np.asarray(values, dtype=float)
        return f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.3f}"

    best, best_val = None, -np.inf
    for method in methods:
        rows = [r for records in by_seed.values() for r in records if r["method"] == method]
        val_csi = [r["val"]["csi"] for r in rows]
        cells = [
            method,
            str(len(rows)),
            stat(val_csi),
            stat([r["test"]["csi"] for r in rows]),
            stat([r["test"]["pod"] for r in rows]),
            stat([r["test"]["far"] for r in rows]),
            stat([r["test"]["rmse"] for r in rows]),
        ]
        if "loss_test" in rows[0]:
            cells.append(stat([100 * r["loss_val"] for r in rows]) + " %")
            cells.append(stat([100 * r["loss_test"] for r in rows]) + " %")
            if np.mean(val_csi) > best_val:
                best, best_val = method, float(np.mean(val_csi))
        else:
            cells += ["–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), best


def _networks_key(runs: dict) -> str:
    """Cache key of a pair of :class:`~prelib.workflow.StageRun`: run keys, checkpoint files and
    epochs trained (a resumed, longer run is another network)."""
    return "+".join(
        f"{runs[t].key}@{runs[t].checkpoint.name}:{len(runs[t].history)}" for t in ("cls", "reg")
    )


def run_seed(args, seed: int, recipes: list[tuple[str, dict, dict]], log) -> list[dict]:
    """Train (or load) and score the teacher, every Light recipe and GBM for one seed."""
    from prelib.config import resolve
    from prelib.evaluation.benchmark import score_predictors
    from prelib.evaluation.scoring import baseline_predictor, two_network_predictor
    from prelib.models.cost import pair_cost
    from prelib.workflow import (
        BenchmarkData,
        RunLayout,
        ensure_adapted,
        ensure_benchmarks,
        ensure_light,
    )

    chain = {
        stage: {"epochs": epochs}
        for stage, epochs in (("distill", args.distill_epochs), ("adapt", args.adapt_epochs))
        if epochs is not None
    }
    cfg = resolve(args.profile, seed=seed, device="cpu", training=chain)
    layout = RunLayout(args.run_dir / f"seed-{seed}", args.data_root, keyed=True)
    ensure_benchmarks(cfg, layout)
    data = BenchmarkData(cfg, layout)

    cache = ScoreCache(layout.root / "light_skill_scores.json")
    loaders = {
        split: data.loader("fulldisc", split, cfg.evaluation.batch_size)
        for split in ("val", "test")
    }

    def scores(method: str, key: str, make_predictor) -> dict[str, dict]:
        out = {}
        for split, loader in loaders.items():
            cache_key = f"{split}|{key}|threshold={cfg.evaluation.threshold}"
            cached = cache.get(cache_key)
            if cached is None:
                table = score_predictors(
                    {method: make_predictor()},
                    loader,
                    threshold=cfg.evaluation.threshold,
                    seed=seed,
                )
                cached = {c: float(table.loc[method, c]) for c in METRIC_COLUMNS}
                cache.put(cache_key, cached)
            out[split] = cached
        return out

    teacher = {
        t: ensure_adapted(cfg, layout, "selfmask", t, data=data, weights=args.teacher_weights)
        for t in ("cls", "reg")
    }
    log(
        f"seed {seed}: teacher PRE-Net (Self-MaskTune) "
        + ", ".join(f"{t} {'trained' if r.trained else 'loaded'}" for t, r in teacher.items())
    )
    t_net = {t: r.network for t, r in teacher.items()}
    t_key = f"teacher:{_networks_key(teacher)}"
    records = [
        {
            "method": TEACHER,
            "cost": pair_cost(t_net["cls"], t_net["reg"], args.tile),
            **scores(TEACHER, t_key, lambda: two_network_predictor(t_net["cls"], t_net["reg"])),
        }
    ]
    for name, distill, training in recipes:
        models = {"light_distill": distill} if distill else None
        cfg_r = resolve(args.profile, seed=seed, device="cpu", training=chain, models=models)
        schedule = {"epochs": args.epochs, "max_steps_per_epoch": args.steps}
        light_training = {k: v for k, v in schedule.items() if v is not None} | training
        runs = {
            t: ensure_light(
                cfg_r,
                layout,
                t,
                data=data,
                weights="best",
                teacher_weights=args.teacher_weights,
                training=light_training,
            )
            for t in ("cls", "reg")
        }
        for t, run in runs.items():
            curve = "; ".join(
                f"e{r['epoch']} loss {r.get('val_task_loss', np.nan):.3f} "
                f"CSI {r.get('val_csi', np.nan):.3f}"
                for r in run.history
            )
            log(
                f"seed {seed}: Light {name} {t}: {'trained' if run.trained else 'loaded'} "
                f"({run.run_dir.name}, {run.checkpoint.name}; validation {curve})"
            )
        net = {t: r.network for t, r in runs.items()}
        method = f"PRE-Net-Light [{name}]"
        record = {
            "method": method,
            "cost": pair_cost(net["cls"], net["reg"], args.tile),
            "rain_fraction": rain_fractions(runs["cls"].history),
            **scores(
                method,
                f"light:{_networks_key(runs)}",
                lambda net=net: two_network_predictor(net["cls"], net["reg"]),
            ),
        }
        for split in ("val", "test"):
            record[f"loss_{split}"] = relative_loss(records[0][split]["csi"], record[split]["csi"])
        records.append(record)
    if args.gbm:
        key = f"gbm:max_pixels={cfg.evaluation.baseline_max_pixels}:seed={seed}"
        fitted = {}

        def gbm():
            if "gbm" not in fitted:
                fitted["gbm"] = fit_gbm(data, cfg, seed)
            return baseline_predictor(fitted["gbm"])

        records.append({"method": GBM, **scores(GBM, key, gbm)})
    log(f"seed {seed}: scored on the Full-IPR validation and test splits")
    samples, pixels = scored_pixels(loaders["test"])
    print(
        f"\nSeed {seed}, profile {cfg.profile}: chain epochs teacher "
        f"{cfg.training.teacher.epochs}, Stage I {cfg.training.distill.epochs}, "
        f"Stage II {cfg.training.adapt.epochs}; "
        f"Full-IPR test split {samples} samples of 256², {pixels} scored pixels"
    )
    print(format_seed(records), flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="run folder (created; reused when present)")
    parser.add_argument("--profile", default="demo", help="run profile (default demo)")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="training seeds (default 0)"
    )
    parser.add_argument(
        "--recipe",
        action="append",
        default=None,
        help="NAME[:key=value,...] Light recipe (repeatable; default: 'profile', the "
        "profile's light_distill section)",
    )
    parser.add_argument(
        "--data-root", type=Path, default=None, help="benchmark stores (default RUN_DIR/data)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="Light epochs (default: the profile's light stage)"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="Light steps per epoch (default: the profile's light stage)",
    )
    parser.add_argument(
        "--distill-epochs", type=int, default=None, help="Stage-I epochs (default: the profile's)"
    )
    parser.add_argument(
        "--adapt-epochs", type=int, default=None, help="Stage-II epochs (default: the profile's)"
    )
    parser.add_argument(
        "--teacher-weights",
        choices=("best", "last"),
        default="best",
        help="the teacher's checkpoint, scored and distilled from (default best: picked on "
        "validation, as Table 5 does; a demo classifier's last epoch can predict no rain)",
    )
    parser.add_argument(
        "--no-gbm", dest="gbm", action="store_false", help="skip the gradient-boosting reference"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--tile", type=int, default=256, help="tile size of the FLOP count")
    args = parser.parse_args(argv)
    args.data_root = args.data_root or args.run_dir / "data"
    recipes = [parse_recipe(text) for text in args.recipe or ["profile"]]
    names = [name for name, _, _ in recipes]
    if len(set(names)) != len(names):
        parser.error(f"recipe names must be unique, got {names}")

    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)

    by_seed = {seed: run_seed(args, seed, recipes, log) for seed in args.seeds}
    summary, best = format_summary(by_seed)
    print(f"\nOver seeds {args.seeds} (mean ± std; CSI loss = (teacher − Light) / teacher):")
    print(summary)
    if best is not None:
        losses = [
            r["loss_test"] for records in by_seed.values() for r in records if r["method"] == best
        ]
        flops = [
            records[0]["cost"]["gflop"] / r["cost"]["gflop"]
            for records in by_seed.values()
            for r in records
            if r["method"] == best
        ]
        mean = float(np.mean(losses))
        verdict = (
            "undefined: the teacher has no CSI"
            if not np.isfinite(mean)
            else "Light scores higher than its teacher"
            if mean < 0
            else ("meets" if mean <= CSI_GOAL else "misses") + f" the goal ≤ {100 * CSI_GOAL:.0f} %"
        )
        print(
            f"Recipe with the best mean validation CSI: {best}; its test CSI loss vs the teacher "
            f"{100 * mean:.1f} % ({verdict}); {np.mean(flops):.1f}x fewer FLOPs per tile"
        )
    log("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
