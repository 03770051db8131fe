import numpy as np
import pytest

from prelib.downscaling.evaluation import (
    COLUMNS,
    MethodOutput,
    crps,
    evaluation_table,
    measure,
    to_markdown,
    write_table,
)


def test_crps_of_perfect_ensemble_is_zero_and_grows_with_error(rain_fields):
    truth = rain_fields(2, 20)
    assert crps(np.stack([truth] * 4), truth) == pytest.approx(0.0, abs=1e-12)
    assert crps(np.stack([truth + 1.0] * 4), truth) == pytest.approx(1.0)
    assert crps(truth[None] + 0.5, truth) == pytest.approx(0.5)  # one member: the MAE
    with pytest.raises(ValueError, match="ensemble size"):
        crps(np.empty((0, 2, 20, 20)), truth)


def test_table_has_every_column_and_a_truth_row(tmp_path, rain_fields):
    truth = rain_fields(2, 40, seed=1)
    outputs = [
        MethodOutput("perfect", truth[None], params=10, flops=2e6, seconds=0.1),
        MethodOutput("smooth", np.full_like(truth, truth.mean())[None]),
    ]
    with pytest.warns(RuntimeWarning, match="PearsonCC"):  # the constant field has no CC
        table = evaluation_table(outputs, truth, factor=10)
    assert np.isnan(table.loc["smooth", "cc"])
    assert list(table.columns) == list(COLUMNS)
    assert list(table.index) == ["truth", "perfect", "smooth"]
    perfect = table.loc["perfect"]
    assert perfect["rmse"] == 0 and perfect["cc"] == pytest.approx(1.0)
    assert perfect["psd_ratio"] == pytest.approx(1.0) and perfect["csi@0.1"] == 1.0
    assert perfect["gflops_per_1000km"] == pytest.approx(2e6 / truth.size * 1e6 / 1e9)
    assert table.loc["smooth", "psd_ratio"] == pytest.approx(0.0, abs=1e-9)
    paths = write_table(table, tmp_path, "evaluation", "test")
    assert paths["csv"].read_text().startswith("method,rmse")
    assert "| perfect |" in paths["md"].read_text()
    assert to_markdown(table).count("\n") == 5


def test_bad_outputs(rain_fields):
    truth = rain_fields(1, 20)
    with pytest.raises(ValueError, match="grid"):
        evaluation_table([MethodOutput("x", truth[None, :, :10])], truth, 10)
    with pytest.raises(ValueError, match="NaN"):
        MethodOutput("x", np.full((1, 1, 4, 4), np.nan))


def test_measure_counts_flops():
    import torch

    layer = torch.nn.Linear(10, 10, bias=False)
    _, seconds, flops = measure(lambda: layer(torch.ones(3, 10)))
    assert flops == 2 * 3 * 10 * 10 and seconds >= 0
