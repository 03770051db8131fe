"""The papermill notebook pipeline (``prelib pipeline run``)."""

from prelib.pipeline.runner import (
    NotebookStep,
    PipelineError,
    curate_figures,
    load_run_order,
    plan_pipeline,
    run_pipeline,
)

__all__ = [
    "NotebookStep",
    "PipelineError",
    "curate_figures",
    "load_run_order",
    "plan_pipeline",
    "run_pipeline",
]
