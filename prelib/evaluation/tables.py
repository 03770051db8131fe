"""The paper's tables on the synthetic PRE benchmark (Wang et al., KDD 2025, Tables 2–5, 7, 8).

Each ``table*`` function trains what it needs (resumably, once per seed, shared between
tables through :class:`~prelib.evaluation.session.ExperimentSession`), scores every row on the
test split with the pooled protocol of :mod:`prelib.evaluation.scoring`, and returns the mean ±
std over ``seeds`` as a DataFrame (index = row, columns = ``<metric>``, ``<metric>_std``,
``n_seeds``); with ``out_dir`` the table is also written as CSV + Markdown.

What each row scores — one protocol for every table (:mod:`prelib.evaluation.scoring`):

* PRE-Net, students, teachers and UNets: the paper's **two-network composition**
  (regression where the classifier's argmax is rain, 0 elsewhere) on the test split of the
  table (Swath-MPR for Tables 2, 3, 8; Full-IPR for 4, 5, 7); IR baselines predict the rate;
* threshold-free classifier scores (``ce``, ``brier``, ``auc``) and the composed CSI at a
  probability threshold chosen on the validation split (``csi_pval`` at ``p_threshold``) as
  extra columns, never replacing the argmax protocol;
* the test-set size (``n_samples``, ``n_pixels``, ``n_rain_pixels``) with every table;
* the per-pixel gradient-boosting baseline (``gbm``, fitted on the table's training split) as
  a reference row of every table.

Row definitions:

* Table 2 (CoMWE ablation): RMKD off = one masked view (``n_splits = 1``); DAWE off =
  ``dawe_mode="off"``. ``× ×`` is therefore MKD (in the paper that row equals the no-KD UNet);
  an extra row trains CoMWE with the reference code's DAWE (``dawe_mode="reference"``).
* Table 3: distillers ``none`` (UNet), ``kd``, ``mgd``, ``mkd``, ``rmkd``, ``comwe``.
* Table 4: Stage-II variants of :data:`prelib.training.stages.ADAPT_VARIANTS`.
* Table 5: PRE-Net (the ``prenet_variant`` of the config, Self-MaskTune by default),
  PRE-Net-Light distilled from that PRE-Net (beyond the paper; ``prelib.workflow.ensure_light``),
  a UNet trained on full-disc IR only, GPI, Auto-Estimator, PERSIANN-CCS-style and gradient
  boosting (fitted on the full-disc training split).
* Table 7: the same PRE-Net with no / additive / multiplicative input noise.
* Table 8: the teacher on each modality subset of the evaluation profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from prelib.config import RunConfig, deprecated_profile_name, resolve
from prelib.evaluation.config import EvaluationConfig, parse_modalities
from prelib.evaluation.report import summarise, write_table
from prelib.evaluation.scoring import SIZE_COLUMNS, baseline_predictor, two_network_predictor
from prelib.evaluation.session import ExperimentSession
from prelib.metrics import PAPER_METRICS

SWATH_METRICS: tuple[str, ...] = ("rmse", "cc", "pod", "far", "csi")
FULLDISC_METRICS: tuple[str, ...] = ("rmse", "cc", "pod", "far", "csi")
TABLE5_METRICS: tuple[str, ...] = tuple(PAPER_METRICS)
EXTRA_COLUMNS: tuple[str, ...] = ("csi_pval", "p_threshold", "ce", "brier", "auc")
"""Columns after the paper's: validation-threshold CSI and threshold-free classifier scores."""
GBM_ROW: tuple[str, str] = ("gbm", "GBM (IR, per pixel)")
"""Key and label of the per-pixel gradient-boosting reference row of Tables 2, 3, 4 and 8."""

KD_METHODS: dict[str, str] = {
    "none": "UNet (no KD)",
    "kd": "KD",
    "mgd": "MGD",
    "mkd": "MKD",
    "rmkd": "RMKD",
    "comwe": "CoMWE",
}
ADAPTATION_ROWS: dict[str, str] = {
    "scratch": "From scratch (PRE-Net, full-disc IR)",
    "kd_nonmask": "KD + Non-MaskTune",
    "comwe_noadapt": "CoMWE, no adaptation",
    "nonmask": "CoMWE + Non-MaskTune",
    "randmask": "CoMWE + Rand-MaskTune",
    "selfmask": "CoMWE + Self-MaskTune",
}
BASELINE_ROWS: dict[str, str] = {
    "gpi": "GPI",
    "ae": "Auto-Estimator",
    "persiann_ccs": "PERSIANN-CCS-style",
    "gbm": "GBM (IR)",
}
TABLE_TITLES: dict[str, str] = {
    "2": "Table 2 analogue: CoMWE ablation (Swath-MPR test)",
    "3": "Table 3 analogue: knowledge-distillation methods (Swath-MPR test)",
    "4": "Table 4 analogue: full-disc adaptation strategies (Full-IPR test)",
    "5": "Table 5 analogue: PRE-Net vs IR baselines (Full-IPR test)",
    "7": "Table 7 analogue: Gaussian input noise (Full-IPR test)",
    "8": "Table 8 analogue: teacher modality ablation (Swath-MPR test)",
}
TABLE_NAMES: dict[str, str] = {
    "2": "table2_comwe_ablation",
    "3": "table3_kd_methods",
    "4": "table4_adaptation",
    "5": "table5_baselines",
    "7": "table7_noise",
    "8": "table8_teacher_modalities",
}
TABLES: tuple[str, ...] = tuple(TABLE_NAMES)
QUICK_ROWS: dict[str, tuple[str, ...]] = {
    "2": ("mkd", "comwe", "gbm"),
    "3": ("none", "comwe", "gbm"),
    "4": ("comwe_noadapt", "selfmask", "gbm"),
    "5": ("prenet", "gpi", "ae", "persiann_ccs", "gbm"),
    "7": ("none", "additive", "multiplicative"),
    "8": ("ir", "ir+pmw+pr", "gbm"),
}
"""One quick comparison per table (the demo budget): each row set needs at most one network
beyond the demo chain (teacher, Stage-I CoMWE, Stage-II Self-MaskTune)."""

RowSpec = tuple[str, Callable[[ExperimentSession], dict[str, float]]]


def _composed(session: ExperimentSession, get: Callable[[str], Any]):
    return lambda: two_network_predictor(get("cls"), get("reg"))


def _swath_row(session: ExperimentSession, table: str, row: str, network: Callable[[str], Any]):
    """A swath row: the composition of ``network("cls")`` and ``network("reg")``."""
    return session.score_row(table, row, _composed(session, network), "swath")


def _gbm_row(table: str, kind: str) -> RowSpec:
    key, label = GBM_ROW
    return (
        label,
        lambda s: s.score_row(
            table, key, lambda: baseline_predictor(s.baseline(key, kind=kind)), kind
        ),
    )


# -- row lists ---------------------------------------------------------------------------------
TABLE2_ROWS: dict[str, tuple[str, str, dict[str, str]]] = {
    "mkd": ("RMKD × / DAWE ×", "mkd", {}),
    "rmkd": ("RMKD ✓ / DAWE ×", "rmkd", {}),
    "mkd+dawe": ("RMKD × / DAWE ✓", "mkd", {"dawe_mode": "prelib"}),
    "comwe": ("RMKD ✓ / DAWE ✓ (CoMWE)", "comwe", {}),
    "comwe_refdawe": ("RMKD ✓ / DAWE ✓, reference-code DAWE", "comwe", {"dawe_mode": "reference"}),
}
"""Table 2 row key → (label, distiller, student overrides)."""


def _table2_rows(keys: Sequence[str] | None) -> list[RowSpec]:
    rows = []
    for key in keys or [*TABLE2_ROWS, GBM_ROW[0]]:
        if key == GBM_ROW[0]:
            rows.append(_gbm_row("2", "swath"))
            continue
        if key not in TABLE2_ROWS:
            raise ValueError(f"Table 2 rows are {[*TABLE2_ROWS, GBM_ROW[0]]}, got {key!r}")
        label, method, overrides = TABLE2_ROWS[key]
        rows.append(
            (
                label,
                lambda s, m=method, o=overrides, k=key: _swath_row(
                    s, "2", k, lambda task: s.student(m, task, **o)
                ),
            )
        )
    return rows


def _table3_rows(methods: Sequence[str] | None) -> list[RowSpec]:
    rows = []
    for method in methods or [*KD_METHODS, GBM_ROW[0]]:
        if method == GBM_ROW[0]:
            rows.append(_gbm_row("3", "swath"))
            continue
        if method not in KD_METHODS:
            raise ValueError(f"Table 3 methods are {[*KD_METHODS, GBM_ROW[0]]}, got {method!r}")
        rows.append(
            (
                KD_METHODS[method],
                lambda s, m=method: _swath_row(s, "3", m, lambda task: s.student(m, task)),
            )
        )
    return rows


def _table4_rows(variants: Sequence[str] | None) -> list[RowSpec]:
    rows = []
    for variant in variants or [*ADAPTATION_ROWS, GBM_ROW[0]]:
        if variant == GBM_ROW[0]:
            rows.append(_gbm_row("4", "fulldisc"))
            continue
        if variant not in ADAPTATION_ROWS:
            raise ValueError(
                f"Table 4 variants are {[*ADAPTATION_ROWS, GBM_ROW[0]]}, got {variant!r}"
            )
        rows.append(
            (
                ADAPTATION_ROWS[variant],
                lambda s, v=variant: s.score_row(
                    "4", v, _composed(s, lambda task: s.adapted(v, task)), "fulldisc"
                ),
            )
        )
    return rows


LIGHT_ROW: tuple[str, str] = ("prenet_light", "PRE-Net-Light (distilled from PRE-Net)")
"""Key and label of Table 5's PRE-Net-Light row (beyond the paper)."""


def _table5_rows(methods: Sequence[str] | None) -> list[RowSpec]:
    names = ["prenet", LIGHT_ROW[0], "unet", *BASELINE_ROWS]
    rows = []
    for name in methods or names:
        if name not in names:
            raise ValueError(f"Table 5 methods are {names}, got {name!r}")
        if name == "prenet":
            rows.append(
                (
                    "PRE-Net",
                    lambda s: s.score_row(
                        "5",
                        "prenet",
                        _composed(s, lambda t: s.adapted(s.config.prenet_variant, t)),
                        "fulldisc",
                    ),
                )
            )
        elif name == LIGHT_ROW[0]:
            rows.append(
                (
                    LIGHT_ROW[1],
                    lambda s: s.score_row("5", LIGHT_ROW[0], _composed(s, s.light), "fulldisc"),
                )
            )
        elif name == "unet":
            rows.append(
                (
                    "UNet (full-disc IR only)",
                    lambda s: s.score_row("5", "unet", _composed(s, s.fulldisc_unet), "fulldisc"),
                )
            )
        else:
            rows.append(
                (
                    BASELINE_ROWS[name],
                    lambda s, n=name: s.score_row(
                        "5", n, lambda: baseline_predictor(s.baseline(n)), "fulldisc"
                    ),
                )
            )
    return rows


def _table7_rows(kinds: Sequence[str] | None) -> list[RowSpec]:
    rows = []
    for kind in kinds or ("none", "additive", "multiplicative"):
        if kind not in ("none", "additive", "multiplicative"):
            raise ValueError(f"Table 7 rows are none/additive/multiplicative, got {kind!r}")

        def row(s: ExperimentSession, kind: str = kind) -> dict[str, float]:
            sigma = {
                "none": 0.0,
                "additive": s.config.additive_noise_k,
                "multiplicative": s.config.multiplicative_noise,
            }[kind]
            return s.score_row(
                "7",
                kind,
                _composed(s, lambda t: s.adapted(s.config.prenet_variant, t)),
                "fulldisc",
                noise=(kind, sigma),
            )

        rows.append((kind, row))
    return rows


def _table8_rows(subsets: Sequence[str] | None, config: EvaluationConfig) -> list[RowSpec]:
    rows = []
    for subset in subsets or [*config.teacher_subsets, GBM_ROW[0]]:
        if subset == GBM_ROW[0]:
            rows.append(_gbm_row("8", "swath"))
            continue
        mods = "+".join(parse_modalities(subset))
        rows.append(
            (
                mods.upper().replace("+", " + "),
                lambda s, m=mods: _swath_row(s, "8", m, lambda task: s.teacher(task, m)),
            )
        )
    return rows


def test_set_note(raw: pd.DataFrame) -> str:
    """``Test set: … samples, … scored pixels (… rain)`` of a table's per-seed records (the
    largest row; IR baselines and networks are scored on the same pixels)."""
    if not set(SIZE_COLUMNS) <= set(raw.columns) or raw.empty:
        return ""
    largest = raw.sort_values("n_pixels").iloc[-1]
    return (
        f"Test set: {int(largest['n_samples'])} samples, {int(largest['n_pixels']):,} scored "
        f"pixels ({int(largest['n_rain_pixels']):,} with rain ≥ 0.1 mm/h)."
    )


# -- runner ------------------------------------------------------------------------------------
def run_table(
    table: str,
    run: RunConfig | str,
    seeds: Sequence[int] = (0,),
    out_dir: str | Path | None = None,
    rows: Sequence[str] | str | None = None,
    data: str = "auto",
    config: EvaluationConfig | None = None,
    training_overrides: dict[str, Any] | None = None,
    sessions: dict[int, ExperimentSession] | None = None,
    show_progress: bool = True,
    cache_in_memory: bool = False,
) -> pd.DataFrame:
    """Run one table over ``seeds`` and return its mean ± std summary.

    Parameters
    ----------
    table : {"2", "3", "4", "5", "7", "8"}
    run : RunConfig
        The resolved run (:func:`prelib.config.resolve`, with its training overrides); each
        seed's session takes it :meth:`~prelib.config.RunConfig.with_seed`. A profile name is
        deprecated (it is resolved here with ``training_overrides``).
    seeds : sequence of int
        One training seed per repetition (the spread is the ``_std`` columns).
    out_dir : path-like, optional
        Where runs, cached scores and ``<table name>.csv/.md`` go; default
        ``PRELIB_OUTPUT_DIR/<run.profile>/evaluation``.
    rows : sequence of str, optional
        A subset of rows by key: Table 2 labels, Table 3 distillers, Table 4 variants, Table 5
        ``prenet``/``unet``/baseline names, Table 7 noise kinds, Table 8 modality subsets;
        ``"quick"`` = :data:`QUICK_ROWS` (the demo's one comparison per table); default all.
    config : EvaluationConfig, optional
        Default ``run.evaluation``.
    training_overrides : dict, optional
        Only with a profile name (deprecated); a RunConfig holds its own.
    data, show_progress, cache_in_memory
        See :class:`~prelib.evaluation.session.ExperimentSession`.
    sessions : dict, optional
        ``{seed: session}`` reused across tables (networks trained once); filled when given.

    Returns
    -------
    DataFrame
        Index = row label; ``<metric>``, ``<metric>_std`` (NaN for one seed) and ``n_seeds``.
        ``summary.attrs["raw"]`` holds the per-seed scores and ``attrs["paths"]`` the files.
    """
    table = str(table)
    if table not in TABLE_NAMES:
        raise ValueError(f"table must be one of {list(TABLE_NAMES)}, got {table!r}")
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    from prelib.paths import profile_output_dir

    if isinstance(run, str):
        deprecated_profile_name(run, "run_table(...)")
        run = resolve(run, training=dict(training_overrides or {}))
    elif training_overrides:
        raise ValueError(
            "run_table: a RunConfig already holds its training settings; resolve "
            "training_overrides into it (resolve(profile, training=...))"
        )
    config = config or run.evaluation
    if isinstance(rows, str):
        if rows != "quick":
            raise ValueError(f"rows must be a sequence of row keys or 'quick', got {rows!r}")
        rows = QUICK_ROWS[table]
    if out_dir is None:
        out_dir = profile_output_dir(run.profile) / "evaluation"
    out_dir = Path(out_dir)
    specs = {
        "2": lambda: _table2_rows(rows),
        "3": lambda: _table3_rows(rows),
        "4": lambda: _table4_rows(rows),
        "5": lambda: _table5_rows(rows),
        "7": lambda: _table7_rows(rows),
        "8": lambda: _table8_rows(rows, config),
    }[table]()
    if not specs:
        raise ValueError(f"no row of Table {table} matches {list(rows or [])}")
    metrics = (
        TABLE5_METRICS
        if table == "5"
        else (SWATH_METRICS if table in ("2", "3", "8") else FULLDISC_METRICS)
    )
    columns = (*metrics, *EXTRA_COLUMNS, *SIZE_COLUMNS)
    sessions = {} if sessions is None else sessions
    records = []
    for seed in seeds:
        if seed not in sessions:
            sessions[seed] = ExperimentSession(
                run,
                out_dir,
                seed,
                data=data,
                config=config,
                cache_in_memory=cache_in_memory,
                show_progress=show_progress,
            )
        for label, compute in specs:
            scores = compute(sessions[seed])
            records.append({"row": label, "seed": seed, **{m: scores[m] for m in columns}})
    raw = pd.DataFrame.from_records(records)
    summary = summarise(raw, columns)
    paths = write_table(
        summary,
        raw,
        out_dir,
        TABLE_NAMES[table],
        (*metrics, *EXTRA_COLUMNS),
        TABLE_TITLES[table],
        note=test_set_note(raw),
    )
    summary.attrs.update(raw=raw, paths={k: str(v) for k, v in paths.items()})
    return summary


def table2_comwe_ablation(run: RunConfig | str, seeds: Sequence[int] = (0,), **kw) -> pd.DataFrame:
    """Table 2: RMKD on/off × DAWE on/off, and the reference DAWE (see :func:`run_table`)."""
    return run_table("2", run, seeds, **kw)


def table3_kd_methods(run: RunConfig | str, seeds: Sequence[int] = (0,), **kw) -> pd.DataFrame:
    """Table 3: UNet no-KD, KD, MGD, MKD, RMKD, CoMWE on Swath-MPR (see :func:`run_table`)."""
    return run_table("3", run, seeds, **kw)


def table4_adaptation(run: RunConfig | str, seeds: Sequence[int] = (0,), **kw) -> pd.DataFrame:
    """Table 4: full-disc adaptation strategies on Full-IPR (see :func:`run_table`)."""
    return run_table("4", run, seeds, **kw)


def table5_baselines(run: RunConfig | str, seeds: Sequence[int] = (0,), **kw) -> pd.DataFrame:
    """Table 5: PRE-Net vs UNet and the IR baselines, with CSI-4/CSI-8 (see :func:`run_table`)."""
    return run_table("5", run, seeds, **kw)


def table7_noise(run: RunConfig | str, seeds: Sequence[int] = (0,), **kw) -> pd.DataFrame:
    """Table 7: additive (K) and multiplicative (relative) IR noise (see :func:`run_table`)."""
    return run_table("7", run, seeds, **kw)


def table8_teacher_modalities(
    run: RunConfig | str, seeds: Sequence[int] = (0,), **kw
) -> pd.DataFrame:
    """Table 8: the teacher on modality subsets of IR / PMW / PR (see :func:`run_table`)."""
    return run_table("8", run, seeds, **kw)
