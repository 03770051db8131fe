"""Atomic writes never destroy what prelib did not write, survive kills, races and full disks."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from prelib.atomic import (
    SIDECAR_DIR,
    artefact_kind,
    atomic_path,
    check_output,
    overwrite_allowed,
    write_json,
)
from prelib.errors import ConcurrentWriteError, DiskFullError, OutputExistsError

REPO = Path(__file__).resolve().parents[2]


def _user_folder(path: Path) -> Path:
    path.mkdir()
    (path / "thesis.tex").write_text("years of work")
    (path / "data.csv").write_text("1,2,3")
    return path


def _write_store(target: Path, value: str, **options) -> None:
    with atomic_path(target, **options) as tmp:
        tmp.mkdir()
        (tmp / "v").write_text(value)


def test_a_folder_prelib_did_not_write_is_never_replaced(tmp_path):
    folder = _user_folder(tmp_path / "results")
    with pytest.raises(OutputExistsError, match=r"did not write.*--overwrite"):
        _write_store(folder, "new")
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", "thesis.tex"]


def test_a_file_prelib_did_not_write_is_never_replaced(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("my notes")
    with pytest.raises(OutputExistsError, match=r"out\.json"):
        write_json(target, {"a": 1})
    assert target.read_text() == "my notes"


def test_refusal_comes_before_the_work(tmp_path):
    target = _user_folder(tmp_path / "out.zarr")
    ran = []
    with pytest.raises(OutputExistsError):
        with atomic_path(target) as tmp:
            ran.append(tmp)
    assert ran == []


def test_own_artefacts_are_replaced_and_other_kinds_are_not(tmp_path):
    target = tmp_path / "store.zarr"
    _write_store(target, "old")
    _write_store(target, "new")
    assert (target / "v").read_text() == "new" and artefact_kind(target) == "zarr"
    with pytest.raises(OutputExistsError, match="'zarr' artefact, not a 'checkpoint'"):
        _write_store(target, "x", kind="checkpoint")


def test_a_prelib_file_edited_by_the_user_is_no_longer_prelib_s(tmp_path):
    target = write_json(tmp_path / "m.json", {"a": 1})
    time.sleep(0.01)
    target.write_text('{"a": 1, "mine": true}')
    with pytest.raises(OutputExistsError):
        write_json(target, {"a": 2})


def test_overwrite_replaces_foreign_targets(tmp_path):
    folder = _user_folder(tmp_path / "results")
    _write_store(folder, "new", overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["v"]
    target = tmp_path / "x.json"
    target.write_text("mine")
    with overwrite_allowed():
        write_json(target, [1])
    assert check_output(target) == target


def test_stale_temporaries_of_dead_processes_are_cleaned_on_the_next_write(tmp_path):
    target = tmp_path / "store.zarr"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    stale_tmp = tmp_path / f".store.zarr.tmp-{pid}-0123abcd"
    stale_old = tmp_path / f".store.zarr.old-{pid}-4567abcd"
    live = tmp_path / f".store.zarr.tmp-{os.getpid()}-89abcdef"  # this process: kept
    for path in (stale_tmp, stale_old, live):
        path.mkdir()
    _write_store(target, "v")
    assert not stale_tmp.exists() and not stale_old.exists() and live.exists()


def test_a_killed_writer_leaves_nothing_that_survives_the_next_write(tmp_path):
    target = tmp_path / "out.zarr"
    script = textwrap.dedent(f"""
        import os, time
        from prelib.atomic import atomic_path
        with atomic_path({str(target)!r}) as tmp:
            tmp.mkdir(); (tmp / "half").write_text("x"); print("ready", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    assert list(tmp_path.glob(".out.zarr.tmp-*"))  # what kill -9 leaves
    _write_store(target, "ok")
    assert not list(tmp_path.glob(".out.zarr.tmp-*")) and (target / "v").read_text() == "ok"


@pytest.mark.slow
def test_two_processes_writing_one_target_one_is_refused_clearly(tmp_path):
    target = tmp_path / "out.zarr"
    script = textwrap.dedent(f"""
        import sys, time
        from prelib.atomic import atomic_path
        from prelib.errors import ConcurrentWriteError
        try:
            with atomic_path({str(target)!r}) as tmp:
                tmp.mkdir(); (tmp / "who").write_text(sys.argv[1])
                print("writing", flush=True); time.sleep(float(sys.argv[2]))
        except ConcurrentWriteError as err:
            print("refused:", err, flush=True); sys.exit(3)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen(
        [sys.executable, "-c", script, "first", "3"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert first.stdout.readline().strip() == "writing"
    second = subprocess.run(
        [sys.executable, "-c", script, "second", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert first.wait(timeout=60) == 0
    assert second.returncode == 3
    assert "another process is writing" in second.stdout
    assert (target / "who").read_text() == "first"
    assert not list(tmp_path.glob(".out.zarr.*"))  # no .old-* / .tmp-* left


def test_disk_full_is_reported_and_leaves_nothing_half_written(tmp_path):
    target = write_json(tmp_path / "m.json", {"a": 1})
    with pytest.raises(DiskFullError, match=r"no space left on .*needed ~[\d.]+ MB"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"x" * 2_000_000)
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text().startswith("{") and '"a": 1' in target.read_text()
    assert not list(tmp_path.glob(".m.json.tmp-*"))


def test_concurrent_write_error_in_the_same_process_is_clear(tmp_path):
    target = tmp_path / "a.json"
    with atomic_path(target) as tmp:
        tmp.write_text("1")
        with pytest.raises(ConcurrentWriteError, match="another process is writing"):
            with atomic_path(target):
                pass
    assert target.read_text() == "1"


def test_sidecar_is_hidden_and_a_failed_first_write_leaves_no_trace(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "x.nc") as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    write_json(tmp_path / "y.json", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [SIDECAR_DIR, "y.json"]
