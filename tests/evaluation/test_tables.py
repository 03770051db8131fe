"""Each table runs end to end at ``tiny`` and has the expected rows and columns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prelib.config import resolve
from prelib.evaluation.tables import (
    ADAPTATION_ROWS,
    KD_METHODS,
    TABLE2_ROWS,
    TABLE_NAMES,
    run_table,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SWATH = ["rmse", "cc", "pod", "far", "csi"]


def _check_summary(df, rows, metrics, n_seeds=1):
    assert list(df.index) == rows
    for metric in metrics:
        assert metric in df.columns and f"{metric}_std" in df.columns
        assert df[f"{metric}_std"].isna().all() if n_seeds == 1 else True
    assert (df["n_seeds"] == n_seeds).all()
    # RMSE is always defined; other scores are finite or explicitly NaN, never inf.
    assert np.isfinite(df["rmse"]).all() and (df["rmse"] >= 0).all()
    values = df[metrics].to_numpy(dtype=float)
    assert not np.isinf(values).any()
    finite = values[np.isfinite(values)]
    bounded = [m for m in metrics if m != "rmse"]
    assert (
        (df[bounded].to_numpy(dtype=float)[np.isfinite(df[bounded].to_numpy(dtype=float))])
        <= 1.0 + 1e-9
    ).all()
    assert finite.size > 0
    out = df.attrs["paths"]
    for key in ("csv", "seeds_csv", "markdown"):
        assert out[key]


def test_table8_teacher_modalities(tiny_eval):
    df = tiny_eval("8", rows=["ir+pmw+pr"])
    _check_summary(df, ["IR + PMW + PR"], SWATH)


def test_table3_kd_methods(tiny_eval):
    df = tiny_eval("3", rows=["none", "comwe"])
    _check_summary(df, [KD_METHODS["none"], KD_METHODS["comwe"]], SWATH)


def test_table2_comwe_ablation(tiny_eval):
    df = tiny_eval("2", rows=["mkd+dawe"])
    _check_summary(df, [TABLE2_ROWS["mkd+dawe"][0]], SWATH)
    # the ablated student really has DAWE switched on and one view (MKD + DAWE)
    student = tiny_eval.sessions[0].student("mkd", "reg", dawe_mode="prelib")
    assert student.config.dawe_mode == "prelib" and student.config.n_splits == 1


def test_table4_adaptation(tiny_eval):
    df = tiny_eval("4", rows=["comwe_noadapt"])
    _check_summary(df, [ADAPTATION_ROWS["comwe_noadapt"]], SWATH)


def test_table5_baselines_has_neighbourhood_csi(tiny_eval):
    df = tiny_eval("5", rows=["prenet", "gpi"])
    _check_summary(df, ["PRE-Net", "GPI"], [*SWATH, "csi4", "csi8"])


def test_table7_noise_rows_and_reuse_of_the_chain(tiny_eval):
    df = tiny_eval("7")
    _check_summary(df, ["none", "additive", "multiplicative"], SWATH)
    # the noise-free row scores the same network as Table 5's PRE-Net row
    t5 = tiny_eval("5", rows=["prenet"])
    assert math.isclose(df.loc["none", "rmse"], t5.iloc[0]["rmse"], rel_tol=1e-9)


def test_files_written_for_each_table(tiny_eval):
    tiny_eval("8", rows=["ir+pmw+pr"])
    name = TABLE_NAMES["8"]
    out = tiny_eval.out_dir
    assert (out / f"{name}.csv").is_file() and (out / f"{name}_seeds.csv").is_file()
    text = (out / f"{name}.md").read_text()
    assert "RMSE↓" in text and "| IR + PMW + PR |" in text
    assert not list(out.glob(".*tmp*"))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="table must be one of"):
        run_table("6", resolve("tiny"))
    with pytest.raises(ValueError, match="Table 3 methods"):
        run_table("3", resolve("tiny"), rows=["nope"])
    with pytest.raises(ValueError, match="seeds"):
        run_table("3", resolve("tiny"), seeds=())
    with pytest.raises(ValueError, match="already holds its training settings"):
        run_table("3", resolve("tiny"), training_overrides={"epochs": 1})
    with pytest.warns(DeprecationWarning, match="run_table"):
        with pytest.raises(ValueError, match="Table 3 methods"):
            run_table("3", "tiny", rows=["nope"])
