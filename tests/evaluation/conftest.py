"""A shared, minimal tiny-profile evaluation: every network trains for one step, once."""

from __future__ import annotations

import pytest

from prelib.evaluation.config import load_evaluation_config

OVERRIDES = {"epochs": 1, "max_steps_per_epoch": 1, "batch_size": 2}


@pytest.fixture(scope="session")
def tiny_config():
    # Tables 5 and 7 score the un-adapted Stage-I PRE-Net here, so that no full-disc network is
    # trained in the tests (Stage II itself is tested in tests/training).
    return load_evaluation_config(
        "tiny", n_train=2, n_val=1, n_test=1, prenet_variant="comwe_noadapt"
    )


@pytest.fixture(scope="session")
def tiny_eval(tmp_path_factory, tiny_config):
    """``run(table, rows)`` on one output folder with sessions shared across tables."""
    from prelib.config import resolve
    from prelib.evaluation.tables import run_table

    out_dir = tmp_path_factory.mktemp("evaluation")
    sessions: dict = {}

    def run(table: str, rows=None, seeds=(0,)):
        return run_table(
            table,
            resolve("tiny", training=OVERRIDES),
            seeds,
            out_dir,
            rows=rows,
            data="simulated",
            config=tiny_config,
            sessions=sessions,
            show_progress=False,
            cache_in_memory=True,
        )

    run.out_dir = out_dir
    run.sessions = sessions
    return run
