"""The world-calibration study's shift measurement and report, on a few tiny scenes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prelib.evaluation.world_calibration import (
    SHIFT_TARGET_LOSS,
    format_report,
    measure_domain_shift,
    simulate_disc_patches,
)
from prelib.sim.calibration import simulate_calibration_scenes

pytestmark = pytest.mark.slow


# An untrained U-Net may predict a constant field, whose correlation is undefined (NaN).
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_shift_table_scores_both_unets_on_both_domains_and_reports_targets():
    swaths = simulate_calibration_scenes(4, 0, 2021, n_scans=32)
    discs = simulate_disc_patches(4, 0, 2022, size=32)
    assert all(d["ir"].shape == (8, 32, 32) for d in discs)
    assert all(np.mean(d["precip"].values >= 0.1) >= 0.03 for d in discs)  # wet patches only
    table = measure_domain_shift(swaths[:2], swaths[2:], discs[:2], discs[2:], steps=2, batch=2)
    assert list(table.index) == [
        ("swath", "swath"),
        ("swath", "disc"),
        ("disc", "swath"),
        ("disc", "disc"),
    ]
    swath_csi, disc_csi = table.loc[("swath", "swath"), "csi"], table.loc[("swath", "disc"), "csi"]
    if swath_csi > 0:
        assert table.attrs["csi_loss"] == pytest.approx(1 - disc_csi / swath_csi)
    probe = pd.DataFrame(
        {"cc": [0.1, 0.6, 0.65, 0.7], "csi": [0.2, 0.5, 0.55, 0.6]},
        index=pd.Index(["ir", "pmw", "pr", "all"], name="modality"),
    )
    regimes = pd.DataFrame({"n_scenes": [1]}, index=pd.Index(["frontal"], name="regime"))
    report = format_report(
        {"probe": probe, "ceiling": table.iloc[:1], "shift": table, "regimes": regimes}
    )
    assert "met     IR CSI <= 0.25" in report and "met     PR CC >= 0.60" in report
    assert f"shift CSI loss >= {SHIFT_TARGET_LOSS:.0%}" in report
