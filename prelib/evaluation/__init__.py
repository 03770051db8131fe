"""The paper's experiments on the synthetic PRE benchmark: Tables 2, 3, 4, 5, 7, 8 and the study.

* :mod:`~prelib.evaluation.tables` — ``table2_comwe_ablation`` … ``table8_teacher_modalities``
  and :func:`~prelib.evaluation.tables.run_table` (mean ± std over seeds as DataFrames);
* :mod:`~prelib.evaluation.session` — :class:`ExperimentSession`: resumable, shared training
  runs, fitted baselines and cached row scores of one seed;
* :mod:`~prelib.evaluation.scoring` — the one scoring protocol: the two-network composition,
  pooled scores, threshold-free classifier scores, CSI at a validation-chosen probability
  threshold and the test-set size;
* :mod:`~prelib.evaluation.study` — ``prelib study``, the settling study of the recipe (loss
  balance, KD methods, adaptation), seeded and resumable;
* :mod:`~prelib.evaluation.noise` — the Gaussian input noise of Table 7;
* :mod:`~prelib.evaluation.report` — mean ± std and atomic CSV / Markdown writers;
* :mod:`~prelib.evaluation.commands` — ``prelib evaluate``.

Nothing heavy is imported here.
"""

from __future__ import annotations

__all__ = [
    "TABLES",
    "ExperimentSession",
    "run_table",
    "table2_comwe_ablation",
    "table3_kd_methods",
    "table4_adaptation",
    "table5_baselines",
    "table7_noise",
    "table8_teacher_modalities",
]


def __getattr__(name: str):
    # Lazy re-exports: importing prelib.evaluation must not import torch.
    if name == "ExperimentSession":
        from prelib.evaluation.session import ExperimentSession

        return ExperimentSession
    if name in __all__:
        from prelib.evaluation import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'prelib.evaluation' has no attribute {name!r}")
