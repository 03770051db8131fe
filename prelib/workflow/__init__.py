"""The workflow layer: one run's artefacts, benchmarks and trained networks, made or found.

Entry points (the CLI, notebooks, the pipeline runner, the evaluation session) resolve the run's
configuration once (:func:`prelib.config.resolve`) and call this layer; it calls ``data``,
``models`` and ``training`` below it.

* :mod:`~prelib.workflow.artefacts` — :class:`RunLayout`, where a run's files live;
* :mod:`~prelib.workflow.benchmarks` — :func:`ensure_benchmarks` and the loaders of a stage;
* :mod:`~prelib.workflow.stages` — :func:`ensure_teacher`, :func:`ensure_student`,
  :func:`ensure_adapted`, :func:`ensure_light`: load, resume or train, keyed by a
  configuration hash;
* :mod:`~prelib.workflow.networks` — networks loaded from checkpoints (what ``inference`` and
  ``evaluation`` use instead of importing ``training``).
"""

from prelib.workflow.artefacts import RunLayout
from prelib.workflow.benchmarks import BenchmarkData, ensure_benchmarks
from prelib.workflow.stages import (
    StageRun,
    ensure_adapted,
    ensure_fulldisc_unet,
    ensure_light,
    ensure_student,
    ensure_teacher,
    run_folder,
)

__all__ = [
    "BenchmarkData",
    "RunLayout",
    "StageRun",
    "ensure_adapted",
    "ensure_benchmarks",
    "ensure_fulldisc_unet",
    "ensure_light",
    "ensure_student",
    "ensure_teacher",
    "run_folder",
]
