"""Every case of ``benchmarks/fault_catalogue.py`` as a test: each fault must be handled clearly.

Each case fails on the code before the hardening (a deleted folder, an unpickled payload, stale
parts reused, a raw ``OSError``/``IndexError``, silent NaN or °C, a silent empty validation ...);
see the catalogue for what each provokes. The two cases that run ``prelib infer`` end to end
(~10 s each) run only in the catalogue script; their behaviour is covered here by the API cases.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "fault_catalogue.py"
_SPEC = importlib.util.spec_from_file_location("prelib_fault_catalogue", _PATH)
catalogue = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = catalogue  # dataclasses look their module up there
_SPEC.loader.exec_module(catalogue)

SLOW_IDS = {
    "atomic_two_processes",
    "atomic_best_checkpoint_disk_full",
    "builder_settings_change",
    "builder_changed_file",
    "valid_pipeline_profile_override",
}


def _param(case):
    marks = [pytest.mark.slow] if case.id in SLOW_IDS else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in catalogue.CASES if not c.slow_case])
def test_fault_is_handled_clearly(case, tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIB_DATA_DIR", str(tmp_path / "data"))
    outcome = catalogue.run_case(case, tmp_path)
    assert outcome.status == "clear", f"{case.what}: {outcome.status}: {outcome.detail}"


def test_the_catalogue_covers_every_item_with_at_least_40_cases():
    items = {c.item for c in catalogue.CASES}
    assert len(catalogue.CASES) >= 40 and items == {1, 2, 3, 4, 5}
    assert len({c.id for c in catalogue.CASES}) == len(catalogue.CASES)
