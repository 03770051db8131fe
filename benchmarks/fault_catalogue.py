"""Run a catalogue of faults and bad inputs against prelib and count how each one is handled.

Every case provokes one fault (a user's folder as output, a pickle as a model, a corrupt HDF5
chunk, °C labelled K, a full disk, a flipped checkpoint byte ...) and classifies the outcome:

``clear``    the right thing happened: a refusal naming the file and the problem, or a documented
             conversion / masking with a warning;
``unclear``  refused, but the message does not say what is wrong (or is a traceback);
``silent``   accepted without a word and a wrong result;
``crash``    an unexpected exception type or a raw traceback;
``loss``     a user's file or folder was destroyed.

Usage::

    python benchmarks/fault_catalogue.py            # all cases, a table and the counts
    python benchmarks/fault_catalogue.py -k atomic  # only cases whose id contains "atomic"

The goal is every case ``clear``: 0 silent, 0 crash, 0 loss. ``tests/reliability`` runs the same
cases as tests (the ones marked ``slow_case`` only here).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import io
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from prelib.errors import PrelibError  # noqa: E402

STATUSES = ("clear", "unclear", "silent", "crash", "loss")


@dataclasses.dataclass
class Outcome:
    status: str
    detail: str


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    item: int  # the item (1 atomic, 2 pickles, 3 builder keys, 4 faults, 5 validation)
    what: str
    run: Callable[[Path], Outcome]
    slow_case: bool = False


CASES: list[Case] = []


def case(item: int, what: str, slow_case: bool = False):
    def register(fn: Callable[[Path], Outcome]) -> Callable[[Path], Outcome]:
        CASES.append(Case(fn.__name__.removeprefix("case_"), item, what, fn, slow_case))
        return fn

    return register


# ------------------------------------------------------------------------------------------
# Classification helpers
# ------------------------------------------------------------------------------------------
EXPECTED_ERRORS = (PrelibError, ValueError, OSError, KeyError)


def expect_error(action: Callable[[], object], match: str, types=EXPECTED_ERRORS) -> Outcome:
    """``clear`` if ``action`` raises one of ``types`` whose message matches ``match``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action()
    except types as err:
        text = " ".join(str(err).split())
        if re.search(match, text):
            return Outcome("clear", f"{type(err).__name__}: {text[:150]}")
        return Outcome("unclear", f"{type(err).__name__}: {text[:150]} (wanted /{match}/)")
    except Exception as err:
        return Outcome("crash", f"{type(err).__name__}: {str(err)[:150]}")
    return Outcome("silent", "no error")


def expect_true(action: Callable[[], tuple[bool, str]]) -> Outcome:
    """``clear`` if ``action()`` returns ``(True, detail)``, ``silent`` on ``False``."""
    try:
        ok, detail = action()
    except Exception as err:
        return Outcome("crash", f"{type(err).__name__}: {str(err)[:150]}")
    return Outcome("clear" if ok else "silent", detail)


def expect_warning(action: Callable[[], object], match: str, check=None) -> Outcome:
    """``clear`` if ``action`` warns with ``match`` (and ``check(result)`` holds)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = action()
    except Exception as err:
        return Outcome("crash", f"{type(err).__name__}: {str(err)[:150]}")
    texts = [str(w.message) for w in caught]
    hit = next((t for t in texts if re.search(match, t)), None)
    if hit is None:
        return Outcome("silent", f"no warning matching /{match}/ (got {texts[:2]})")
    if check is not None:
        ok, detail = check(result)
        if not ok:
            return Outcome("silent", f"warned, but {detail}")
    return Outcome("clear", hit[:150])


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``prelib.cli.main(argv)`` in this process: (exit status, stderr)."""
    from prelib.cli import main

    err, out = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(out),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        try:
            rc = main(argv)
        except SystemExit as exit_:
            rc = exit_.code if isinstance(exit_.code, int) else 2
    return rc, err.getvalue()


def expect_cli_error(argv: list[str], match: str) -> Outcome:
    """``clear`` if the command fails with one line on stderr matching ``match``."""
    try:
        rc, stderr = run_cli(argv)
    except Exception as err:
        return Outcome("crash", f"{type(err).__name__} escaped the CLI: {str(err)[:150]}")
    if "Traceback" in stderr:
        return Outcome("crash", f"rc {rc}, a traceback")
    if rc == 0:
        return Outcome("silent", "rc 0")
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if lines and re.search(match, lines[-1]):
        return Outcome("clear", f"rc {rc}: {lines[-1][:150]}")
    return Outcome("unclear", f"rc {rc}: {stderr.strip()[:200]} (wanted /{match}/)")


def user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "thesis.tex").write_text("years of work")
    (path / "results.csv").write_text("1,2,3")
    return path


def intact(path: Path) -> bool:
    return (path / "thesis.tex").is_file() and (path / "thesis.tex").read_text() == "years of work"


def guard_loss(folder: Path, outcome: Outcome) -> Outcome:
    return outcome if intact(folder) else Outcome("loss", f"{folder} was destroyed")


# ------------------------------------------------------------------------------------------
# Fixtures written on demand (small synthetic products in the real on-disk layouts)
# ------------------------------------------------------------------------------------------
def swath_archive(root: Path, n_granules: int = 2, n_scans: int = 20) -> Path:
    """Short DPR + GMI overpasses (rejected as too short: cheap to build)."""
    from prelib.writers.scenario import write_overpass

    for g in range(1, n_granules + 1):
        write_overpass(
            root,
            np.datetime64("2021-07-20T06:04:00") + np.timedelta64(3 * g, "h"),
            granule=g,
            n_scans=n_scans,
            agri_offset=None,
            write_label=False,
        )
    (root / "agri").mkdir(exist_ok=True)
    (root / "cldas").mkdir(exist_ok=True)
    return root


def label_hour_archive(root: Path) -> Path:
    from prelib.writers.scenario import write_label_hour

    write_label_hour(root, np.datetime64("2022-07-20T07"), (20.48, 30.72, 100.96, 111.2))
    return root


_SAMPLES: dict[str, object] = {}


def synthetic_sample(kind: str, index: int = 0):
    """A synthetic benchmark sample of the tiny profile (a deep copy; cached per kind)."""
    from prelib.data.benchmark_config import load_benchmark_config
    from prelib.data.samples import generate_sample

    if kind not in _SAMPLES:
        _SAMPLES[kind] = generate_sample(kind, "test", 0, load_benchmark_config("tiny"))[0]
    return _SAMPLES[kind].copy(deep=True)


def corrupt_chunk(path: Path, dataset: str) -> None:
    """Overwrite the middle of the first compressed chunk of ``dataset``: its gzip filter fails."""
    import h5py

    with h5py.File(path, "r") as f:
        info = f[dataset].id.get_chunk_info(0)
    with open(path, "r+b") as handle:
        handle.seek(info.byte_offset + info.size // 3)
        handle.write(b"\xff" * max(8, info.size // 3))


def edit_h5(path: Path, dataset: str, values=None, units: str | None = None) -> None:
    import h5py

    from prelib.writers.gpm import set_string_attr

    with h5py.File(path, "r+") as f:
        ds = f[dataset]
        if values is not None:
            ds[...] = values(ds[...])
        if units is not None:
            set_string_attr(ds, "units", units)
            set_string_attr(ds, "Units", units)


def gmi_granule(root: Path) -> Path:
    from prelib.writers.scenario import write_overpass

    return write_overpass(
        root, np.datetime64("2021-07-20T06:04:00"), n_scans=12, agri_offset=None, write_label=False
    ).gmi


def dpr_granule(root: Path) -> Path:
    from prelib.writers.scenario import write_overpass

    return write_overpass(
        root, np.datetime64("2021-07-20T06:04:00"), n_scans=12, agri_offset=None, write_label=False
    ).dpr


def cldas_file(root: Path, units: str | None = None, scale: float = 1.0, fill=None) -> Path:
    import netCDF4

    from prelib.writers.grids import write_cldas

    lat = np.arange(20, 22, 0.0625) + 0.03125
    lon = np.arange(110, 112, 0.0625) + 0.03125
    field = np.full((lat.size, lon.size), 2.0, np.float32)
    path = write_cldas(root, lat, lon, field, np.datetime64("2022-07-20T07"))
    with netCDF4.Dataset(path, "a") as nc:
        var = nc["PRCP"]
        var.set_auto_maskandscale(False)
        if scale != 1.0:
            var[...] = var[...] * scale
        if fill is not None:
            var[...] = np.full(var.shape, fill, np.float32)
        if units is not None:
            var.units = units
    return path


# ------------------------------------------------------------------------------------------
# 1. Atomic writes never destroy what prelib did not write
# ------------------------------------------------------------------------------------------
@case(1, "infer --output over a folder full of the user's files", slow_case=True)
def case_atomic_infer_output_folder(tmp: Path) -> Outcome:
    folder = user_folder(tmp / "results")
    argv = ["infer", "--case", "frontal", "--baseline", "gpi", "--output", str(folder)]
    return guard_loss(folder, expect_cli_error(argv, r"refusing to replace.*--overwrite"))


@case(1, "simulate build --out over the user's folder")
def case_atomic_simulate_out_folder(tmp: Path) -> Outcome:
    folder = user_folder(tmp / "mine.zarr")
    argv = [
        "simulate",
        "build",
        "--kind",
        "fulldisc",
        "--split",
        "test",
        "--n-samples",
        "1",
        "--out",
        str(folder),
        "--no-progress",
    ]
    return guard_loss(folder, expect_cli_error(argv, r"mine\.zarr.*refusing to replace"))


@case(1, "a store written over a user's folder (the API)")
def case_atomic_store_over_user_folder(tmp: Path) -> Outcome:
    from prelib.atomic import atomic_path

    folder = user_folder(tmp / "store.zarr")

    def write():
        with atomic_path(folder) as out:
            out.mkdir()

    return guard_loss(folder, expect_error(write, r"store\.zarr.*did not write.*--overwrite"))


@case(1, "--output over an existing user file")
def case_atomic_output_over_user_file(tmp: Path) -> Outcome:
    from prelib.atomic import atomic_path

    target = tmp / "rain.nc"
    target.write_text("my own NetCDF")

    def write():
        with atomic_path(target) as out:
            out.write_text("new")

    outcome = expect_error(write, r"rain\.nc.*refusing to replace")
    return outcome if target.read_text() == "my own NetCDF" else Outcome("loss", "replaced")


@case(1, "a prelib artefact of another kind is not replaced")
def case_atomic_other_kind(tmp: Path) -> Outcome:
    from prelib.atomic import atomic_path

    target = tmp / "thing"
    with atomic_path(target, kind="zarr") as out:
        out.mkdir()

    def write():
        with atomic_path(target, kind="checkpoint") as out:
            out.write_text("x")

    return expect_error(write, r"'zarr' artefact, not a 'checkpoint'")


@case(1, "a prelib file the user edited since is not replaced")
def case_atomic_edited_artefact(tmp: Path) -> Outcome:
    from prelib.atomic import write_json

    target = write_json(tmp / "notes.json", {"a": 1})
    time.sleep(0.01)
    target.write_text('{"my": "edits"}')
    outcome = expect_error(lambda: write_json(target, {"a": 2}), r"notes\.json.*refusing")
    return outcome if "edits" in target.read_text() else Outcome("loss", "edits replaced")


@case(1, "--overwrite replaces a foreign target on request")
def case_atomic_overwrite_flag(tmp: Path) -> Outcome:
    from prelib.atomic import atomic_path, overwrite_allowed

    folder = user_folder(tmp / "old")

    def run():
        with overwrite_allowed(), atomic_path(folder) as out:
            out.mkdir()
            (out / "new").write_text("n")
        return (folder / "new").is_file() and not (folder / "thesis.tex").exists(), "replaced"

    return expect_true(run)


@case(1, "two processes writing one target at once")
def case_atomic_two_processes(tmp: Path) -> Outcome:
    target = tmp / "out.zarr"
    script = textwrap.dedent(f"""
        import sys, time
        from prelib.atomic import atomic_path
        from prelib.errors import ConcurrentWriteError
        try:
            with atomic_path({str(target)!r}) as t:
                t.mkdir(); (t / "who").write_text(sys.argv[1])
                print("writing", flush=True); time.sleep(float(sys.argv[2]))
        except ConcurrentWriteError as err:
            print("refused:", err, flush=True); sys.exit(3)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen(
        [sys.executable, "-c", script, "first", "2.5"], stdout=subprocess.PIPE, text=True, env=env
    )
    first.stdout.readline()
    second = subprocess.run(
        [sys.executable, "-c", script, "second", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    first.wait(timeout=120)
    leftovers = [p.name for p in tmp.glob(".out.zarr.*")]
    if second.returncode == 3 and "another process is writing" in second.stdout and not leftovers:
        return Outcome("clear", second.stdout.strip()[:150])
    if second.returncode not in (0, 3):
        return Outcome("crash", second.stderr.strip()[-200:])
    return Outcome("silent", f"rc {second.returncode}, leftovers {leftovers}")


@case(1, "temporaries of a writer killed with -9 are cleaned by the next write")
def case_atomic_kill9_leftovers(tmp: Path) -> Outcome:
    target = tmp / "big.zarr"
    script = textwrap.dedent(f"""
        import time
        from prelib.atomic import atomic_path
        with atomic_path({str(target)!r}) as t:
            t.mkdir(); (t / "half").write_text("x"); print("ready", flush=True); time.sleep(60)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    proc.stdout.readline()
    proc.kill()
    proc.wait()

    def run():
        from prelib.atomic import atomic_path

        before = len(list(tmp.glob(".big.zarr.tmp-*")))
        with atomic_path(target) as t:
            t.mkdir()
        after = len(list(tmp.glob(".big.zarr.tmp-*")))
        return before == 1 and after == 0, f"{before} stale temporary before, {after} after"

    return expect_true(run)


@case(1, "disk full while writing: a clear message, nothing half-written")
def case_atomic_disk_full(tmp: Path) -> Outcome:
    from prelib.atomic import atomic_path, write_json

    target = write_json(tmp / "m.json", {"kept": True})

    def write():
        with atomic_path(target) as out:
            out.write_bytes(b"x" * 3_000_000)
            raise OSError(errno.ENOSPC, "No space left on device")

    outcome = expect_error(write, r"no space left on .*needed ~[\d.]+ MB")
    if list(tmp.glob(".m.json.tmp-*")) or "kept" not in target.read_text():
        return Outcome("loss", "half-written or old content lost")
    return outcome


@case(1, "disk full while writing a benchmark store")
def case_atomic_disk_full_store(tmp: Path) -> Outcome:
    import prelib.data.store as store

    real = store._write_fields

    def full(path, index, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    store._write_fields = full
    try:
        outcome = expect_error(
            lambda: store.write_benchmark(
                lambda i: synthetic_sample("fulldisc"),
                1,
                tmp / "fd.zarr",
                "fulldisc",
                progress=False,
            ),
            r"no space left on .*fd\.zarr",
        )
    finally:
        store._write_fields = real
    left = [p.name for p in tmp.iterdir()]
    return outcome if not left else Outcome("loss", f"left behind: {left}")


@case(1, "disk full while copying best.pt: the previous best.pt survives")
def case_atomic_best_checkpoint_disk_full(tmp: Path) -> Outcome:
    import prelib.training.trainer as trainer_module

    trainer = tiny_trainer(tmp)
    trainer.fit(resume=False)
    before = trainer.best_path.read_bytes()
    real = trainer_module.shutil.copyfile

    def half_then_full(src, dst):
        Path(dst).write_bytes(Path(src).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    trainer_module.shutil.copyfile = half_then_full
    try:
        outcome = expect_error(lambda: trainer._save(2, improved=True), r"no space left on")
    finally:
        trainer_module.shutil.copyfile = real
    if trainer.best_path.read_bytes() != before or list(tmp.rglob(".best*")):
        return Outcome("loss", "best.pt truncated or a candidate left")
    return outcome


# ------------------------------------------------------------------------------------------
# 2. No code from data
# ------------------------------------------------------------------------------------------
class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_case(tmp: Path, name: str, match: str, cli: bool = False) -> Outcome:
    from prelib.baselines import load_baseline

    marker = tmp / "PWNED"
    evil = tmp / name
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    if cli:
        outcome = expect_cli_error(
            ["infer", "--case", "frontal", "--baseline", str(evil), "--output", str(tmp / "o.nc")],
            match,
        )
    else:
        outcome = expect_error(lambda: load_baseline(evil), match)
    return Outcome("crash", "the payload ran") if marker.exists() else outcome


@case(2, "a pickle payload as a baseline (.bin) is never run")
def case_pickle_bin(tmp: Path) -> Outcome:
    return _pickle_case(tmp, "evil.bin", r"evil\.bin.*pickle-free")


@case(2, "a pickle payload as a baseline (.joblib) is never run")
def case_pickle_joblib(tmp: Path) -> Outcome:
    return _pickle_case(tmp, "evil.joblib", r"refusing '\.joblib'")


@case(2, "a pickle payload named .npz is never run")
def case_pickle_npz(tmp: Path) -> Outcome:
    return _pickle_case(tmp, "evil.npz", r"evil\.npz: not a baseline saved by prelib")


@case(2, "prelib infer --baseline evil.bin never runs the payload", slow_case=True)
def case_pickle_infer_cli(tmp: Path) -> Outcome:
    return _pickle_case(tmp, "evil.bin", r"evil\.bin.*pickle-free", cli=True)


@case(2, "a fitted GBM round-trips through the pickle-free format")
def case_pickle_gbm_roundtrip(tmp: Path) -> Outcome:
    from prelib.baselines import get_baseline, load_baseline

    def run():
        rng = np.random.default_rng(0)
        ir = rng.uniform(190, 300, (3, 8, 10, 10)).astype(np.float32)
        rain = np.where(ir[:, 4] < 230, (240 - ir[:, 4]) / 5, 0).astype(np.float32)
        model = get_baseline("gbm", max_iter=5, max_pixels=300).fit(ir, rain)
        same = load_baseline(model.save(tmp / "gbm.npz")).predict(ir)
        return bool(np.array_equal(same, model.predict(ir))), "identical predictions"

    return expect_true(run)


# ------------------------------------------------------------------------------------------
# 3. Builder units keyed by content and settings
# ------------------------------------------------------------------------------------------
def _fulldisc_build(tmp: Path, inputs: Path, **kwargs):
    from prelib.data.build.real import build_fulldisc_benchmark

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_fulldisc_benchmark(
            inputs / "agri", inputs / "cldas", tmp / "fd.zarr", progress=False, **kwargs
        )


@case(3, "a rerun with other settings rebuilds instead of reusing stale parts")
def case_builder_settings_change(tmp: Path) -> Outcome:
    import json

    from prelib.atomic import overwrite_allowed

    inputs = label_hour_archive(tmp / "in")

    def run():
        first = _fulldisc_build(tmp, inputs)
        with overwrite_allowed():
            second = _fulldisc_build(tmp, inputs, min_wet_fraction=0.99)
        manifest = json.loads(second.manifest.read_text())
        ok = first.n_samples == 1 and second.n_samples == 0 and manifest["n_samples"] == 0
        ok &= manifest["settings"]["min_wet_fraction"] == 0.99
        return ok, f"{first.n_samples} sample(s), then {second.n_samples} at min_wet 0.99"

    return expect_true(run)


@case(3, "a changed input file is processed again")
def case_builder_changed_file(tmp: Path) -> Outcome:
    inputs = label_hour_archive(tmp / "in")

    def run():
        from prelib.atomic import overwrite_allowed

        _fulldisc_build(tmp, inputs)
        parts = tmp / "fd.zarr.parts"
        before = {p.name for p in parts.glob("*.json")}
        cldas = next((inputs / "cldas").rglob("*.nc"))
        os.utime(cldas, ns=(time.time_ns(), time.time_ns() + 10**9))
        with overwrite_allowed():
            _fulldisc_build(tmp, inputs)
        after = {p.name for p in parts.glob("*.json")}
        return before != after and len(after) == 1, f"records {sorted(before)} -> {sorted(after)}"

    return expect_true(run)


@case(3, "the same granule in two folders is used once and reported")
def case_builder_duplicates(tmp: Path) -> Outcome:
    import json

    inputs = label_hour_archive(tmp / "in")
    cldas = next((inputs / "cldas").rglob("*.nc"))
    (inputs / "cldas" / "copy").mkdir()
    shutil.copy2(cldas, inputs / "cldas" / "copy" / cldas.name)

    def run():
        result = _fulldisc_build(tmp, inputs)
        manifest = json.loads(result.manifest.read_text())
        dup = manifest["duplicates"]
        ok = result.n_samples == 1 and len(dup) == 1 and dup[0]["name"] == cldas.name
        return ok, f"{result.n_samples} sample(s), duplicates {[d['name'] for d in dup]}"

    return expect_true(run)


@case(3, "the manifest's sample count is the store's")
def case_builder_manifest_from_store(tmp: Path) -> Outcome:
    import json

    from prelib.data.store import open_benchmark

    inputs = label_hour_archive(tmp / "in")

    def run():
        result = _fulldisc_build(tmp, inputs)
        manifest = json.loads(result.manifest.read_text())
        with open_benchmark(result.store, "fulldisc") as ds:
            n = ds.sizes["sample"]
        return manifest["n_samples"] == n == len(manifest["samples"]), f"{n} in the store"

    return expect_true(run)


# ------------------------------------------------------------------------------------------
# 4. One bad granule never stops an archive
# ------------------------------------------------------------------------------------------
@case(4, "an HDF5 chunk failing its filter names the file and dataset")
def case_fault_corrupt_chunk(tmp: Path) -> Outcome:
    from prelib.readers.dpr import read_dpr_2a

    path = dpr_granule(tmp)
    corrupt_chunk(path, "FS/SLV/precipRateNearSurface")
    return expect_error(
        lambda: read_dpr_2a(path), rf"{re.escape(path.name)}.*precipRateNearSurface"
    )


@case(4, "a DPR granule whose ScanTime is all fill")
def case_fault_all_fill_scantime(tmp: Path) -> Outcome:
    from prelib.readers.dpr import read_dpr_2a

    path = dpr_granule(tmp)
    edit_h5(path, "FS/ScanTime/Year", values=lambda v: np.full_like(v, -9999))
    return expect_error(lambda: read_dpr_2a(path), r"ScanTime: every scan time is fill")


@case(4, "a truncated HDF5 file")
def case_fault_truncated(tmp: Path) -> Outcome:
    from prelib.readers.gmi import read_gmi_1c

    path = gmi_granule(tmp)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return expect_error(lambda: read_gmi_1c(path), rf"{re.escape(path.name)}.*HDF5")


@case(4, "one corrupt granule in a build: recorded, the rest built, rc 1 with a summary")
def case_fault_build_goes_on(tmp: Path) -> Outcome:
    import json

    root = swath_archive(tmp / "in", n_granules=3)
    bad = sorted((root / "gpm").glob("2A.*"))[1]
    corrupt_chunk(bad, "FS/SLV/precipRateNearSurface")
    out = tmp / "sw.zarr"
    argv = [
        "build",
        "swath",
        "--agri-dir",
        str(root / "agri"),
        "--gpm-dir",
        str(root / "gpm"),
        "--cldas-dir",
        str(root / "cldas"),
        "--out",
        str(out),
        "--no-progress",
    ]
    outcome = expect_cli_error(argv, r"1 of 3 units failed: " + re.escape(bad.name))
    manifest = json.loads(out.with_name("sw.zarr.manifest.json").read_text())
    if [f["unit"] for f in manifest["failed"]] != [bad.name]:
        return Outcome("silent", f"manifest failed = {manifest['failed']}")
    return outcome


@case(4, "--fail-fast stops at the bad granule with one clear line")
def case_fault_fail_fast(tmp: Path) -> Outcome:
    root = swath_archive(tmp / "in", n_granules=2)
    bad = sorted((root / "gpm").glob("2A.*"))[0]
    corrupt_chunk(bad, "FS/SLV/precipRateNearSurface")
    argv = [
        "build",
        "swath",
        "--agri-dir",
        str(root / "agri"),
        "--gpm-dir",
        str(root / "gpm"),
        "--cldas-dir",
        str(root / "cldas"),
        "--out",
        str(tmp / "sw.zarr"),
        "--no-progress",
        "--fail-fast",
    ]
    return expect_cli_error(argv, rf"{re.escape(bad.name)}.*precipRateNearSurface")


@case(4, "a prelib error in the CLI is one line; --debug shows the traceback")
def case_fault_cli_one_line(tmp: Path) -> Outcome:
    argv = [
        "build",
        "fulldisc",
        "--agri-dir",
        str(tmp / "none"),
        "--cldas-dir",
        str(tmp / "none"),
        "--out",
        str(tmp / "x.zarr"),
    ]
    outcome = expect_cli_error(argv, r"input directory .* does not exist")
    _rc, stderr = run_cli([*argv, "--debug"])
    if outcome.status == "clear" and "Traceback" not in stderr:
        return Outcome("unclear", "--debug shows no traceback")
    return outcome


@case(4, "an OSError deep in a command is one clear line, not a traceback")
def case_fault_cli_oserror(tmp: Path) -> Outcome:
    blocker = tmp / "file"
    blocker.write_text("x")
    argv = [
        "simulate",
        "build",
        "--kind",
        "fulldisc",
        "--split",
        "test",
        "--n-samples",
        "1",
        "--out",
        str(blocker / "sub" / "s.zarr"),
        "--no-progress",
    ]
    return expect_cli_error(argv, r"file")


# ------------------------------------------------------------------------------------------
# 5. Validation at the door
# ------------------------------------------------------------------------------------------
@case(5, "GMI Tc in degC (labelled) is converted to K with a warning")
def case_valid_tc_degc_labelled(tmp: Path) -> Outcome:
    from prelib.readers.gmi import read_gmi_1c

    path = gmi_granule(tmp)
    for swath in ("S1", "S2"):
        edit_h5(path, f"{swath}/Tc", values=lambda v: np.where(v > 0, v - 273.15, v), units="degC")

    def check(ds):
        values = ds["pmw"].values
        return bool(np.nanmin(values) > 200), f"min {np.nanmin(values):.1f}"

    return expect_warning(lambda: read_gmi_1c(path), r"converted to K", check)


@case(5, "GMI Tc in °C relabelled K is refused")
def case_valid_tc_celsius_as_kelvin(tmp: Path) -> Outcome:
    from prelib.readers.gmi import read_gmi_1c

    path = gmi_granule(tmp)
    for swath in ("S1", "S2"):
        edit_h5(path, f"{swath}/Tc", values=lambda v: np.where(v > 0, v - 273.15, v))
    return expect_error(lambda: read_gmi_1c(path), r"outside the physical range.*wrong units")


@case(5, "GMI Tc in unknown units is refused")
def case_valid_tc_unknown_units(tmp: Path) -> Outcome:
    from prelib.readers.gmi import read_gmi_1c

    path = gmi_granule(tmp)
    edit_h5(path, "S1/Tc", units="counts")
    return expect_error(lambda: read_gmi_1c(path), r"S1/Tc: pmw has unknown units 'counts'")


def _fill_case(tmp: Path, code: float) -> Outcome:
    from prelib.readers.gmi import read_gmi_1c

    path = gmi_granule(tmp)
    edit_h5(
        path,
        "S1/Tc",
        values=lambda v: np.where(np.arange(v.size).reshape(v.shape) % 7 == 0, np.float32(code), v),
    )

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pmw = read_gmi_1c(path)["pmw"].values
        finite = pmw[np.isfinite(pmw)]
        ok = finite.size > 0 and finite.min() >= 50 and finite.max() <= 350
        return ok, f"finite range [{finite.min():.4g}, {finite.max():.4g}]"

    return expect_true(run)


@case(5, "fill code -9999 in Tc is masked")
def case_valid_fill_9999(tmp: Path) -> Outcome:
    return _fill_case(tmp, -9999.0)


@case(5, "fill code -8888 in Tc is masked")
def case_valid_fill_8888(tmp: Path) -> Outcome:
    return _fill_case(tmp, -8888.0)


@case(5, "fill code -1111 in Tc is masked")
def case_valid_fill_1111(tmp: Path) -> Outcome:
    return _fill_case(tmp, -1111.0)


@case(5, "+inf in Tc is masked")
def case_valid_fill_inf(tmp: Path) -> Outcome:
    return _fill_case(tmp, np.inf)


@case(5, "1e30 in Tc is masked")
def case_valid_fill_1e30(tmp: Path) -> Outcome:
    return _fill_case(tmp, 1e30)


@case(5, "DPR clutter code -28888 never reaches a sample")
def case_valid_fill_28888(tmp: Path) -> Outcome:
    from prelib.validation import clean_field

    def run():
        z = np.array([[-28888.0, 30.0, -9999.9, 45.0]], np.float32)
        out = clean_field(z, "pr")
        return bool(np.isnan(out[0, [0, 2]]).all() and out[0, 3] == 45), str(out)

    return expect_true(run)


@case(5, "CLDAS in kg m-2 s-1 is converted to mm h-1")
def case_valid_cldas_flux(tmp: Path) -> Outcome:
    from prelib.readers.cldas import read_cldas

    path = cldas_file(tmp, units="kg m-2 s-1", scale=1 / 3600)

    def check(ds):
        value = float(np.nanmean(ds["precip"].values))
        return abs(value - 2.0) < 1e-3, f"mean {value:.4f} mm h-1"

    return expect_warning(lambda: read_cldas(path), r"converted to mm h-1", check)


@case(5, "CLDAS in unknown units is refused")
def case_valid_cldas_unknown_units(tmp: Path) -> Outcome:
    from prelib.readers.cldas import read_cldas

    path = cldas_file(tmp, units="inch")
    return expect_error(lambda: read_cldas(path), r"PRCP: precip has unknown units 'inch'")


@case(5, "an all-fill CLDAS file warns and is recorded, never a sample")
def case_valid_cldas_all_fill(tmp: Path) -> Outcome:
    from prelib.readers.cldas import read_cldas

    path = cldas_file(tmp, fill=-9999.0)
    return expect_warning(
        lambda: read_cldas(path), r"all-fill", lambda ds: (ds.attrs["all_fill"] == 1, "attr")
    )


@case(5, "an all-fill GMI granule warns")
def case_valid_gmi_all_fill(tmp: Path) -> Outcome:
    from prelib.readers.gmi import read_gmi_1c

    path = gmi_granule(tmp)
    for swath in ("S1", "S2"):
        edit_h5(path, f"{swath}/Tc", values=lambda v: np.full_like(v, -9999.9))
    return expect_warning(
        lambda: read_gmi_1c(path), r"all-fill", lambda ds: (ds.attrs["all_fill"] == 1, "attr")
    )


@case(5, "an all-fill DPR granule in a build is a warned rejection in the manifest")
def case_valid_dpr_all_fill_build(tmp: Path) -> Outcome:
    import json

    from prelib.data.build.real import build_swath_benchmark

    root = swath_archive(tmp / "in", n_granules=1)
    dpr = next((root / "gpm").glob("2A.*"))
    edit_h5(dpr, "FS/SLV/precipRateNearSurface", values=lambda v: np.full_like(v, -9999.9))

    def run():
        return build_swath_benchmark(
            root / "agri", root / "gpm", root / "cldas", tmp / "sw.zarr", progress=False
        )

    def check(result):
        reasons = [r["reason"] for r in json.loads(result.manifest.read_text())["rejections"]]
        return reasons == ["all-fill granule"] and result.n_samples == 0, f"{reasons}"

    return expect_warning(run, r"all-fill|every precipRateNearSurface", check)


@case(5, "a sample whose PMW is 100 % missing is refused by the store writer")
def case_valid_sample_pmw_missing(tmp: Path) -> Outcome:
    from prelib.data.store import write_benchmark

    def sample(i):
        ds = synthetic_sample("swath")
        ds["pmw"].values[:] = np.nan
        return ds

    return expect_error(
        lambda: write_benchmark(sample, 1, tmp / "s.zarr", "swath", progress=False),
        r"sample 0 cannot be stored: pmw valid fraction 0\.000",
    )


@case(5, "a sample whose IR is in °C is refused by the store writer")
def case_valid_sample_ir_celsius(tmp: Path) -> Outcome:
    from prelib.data.store import write_benchmark

    def sample(i):
        ds = synthetic_sample("fulldisc")
        ds["ir"].values -= 273.15
        return ds

    return expect_error(
        lambda: write_benchmark(sample, 1, tmp / "f.zarr", "fulldisc", progress=False),
        r"sample 0 cannot be stored: .*ir values .* outside the physical range",
    )


@case(5, "1e30 in a stored input is flagged invalid, not fed as a number")
def case_valid_dataset_1e30(tmp: Path) -> Outcome:
    from prelib.data.transforms import sample_to_arrays

    def run():
        ds = synthetic_sample("fulldisc")
        raw = {k: ds[k].values for k in ("ir", "precip", "elevation", "lat", "lon")}
        raw["ir"] = raw["ir"].copy()
        raw["ir"][:, 3, 3] = 1e30
        out = sample_to_arrays(raw, "fulldisc")
        ok = not out["input_valid"][3, 3] and np.isfinite(out["ir"]).all()
        ok &= float(np.abs(out["ir"]).max()) < 10
        return ok, f"max |ir| {float(np.abs(out['ir']).max()):.3g}"

    return expect_true(run)


def tiny_trainer(tmp: Path, ir=None, val: bool = True, valid=None):
    import torch

    from prelib.training.config import load_training_config
    from prelib.training.trainer import Trainer

    torch.set_num_threads(1)
    x = torch.full((8, 4, 4), 0.5) if ir is None else ir
    item = {
        "ir": x,
        "precip": torch.ones(4, 4),
        "valid": torch.ones(4, 4, dtype=torch.bool),
        "index": torch.tensor(7),
    }
    if valid is not None:
        item["input_valid"] = valid
    train = torch.utils.data.DataLoader([item], batch_size=1)
    val_loader = torch.utils.data.DataLoader([item] if val else [], batch_size=1)
    config = load_training_config("tiny", "teacher", epochs=1, device="cpu", num_workers=0)
    model = torch.nn.Conv2d(8, 1, 1)
    return Trainer(
        model, "mse", train, config, tmp / "run", val_loader=val_loader, show_progress=False
    )


@case(5, "the trainer refuses NaN inputs flagged valid, naming the sample")
def case_valid_trainer_nan(tmp: Path) -> Outcome:
    import torch

    ir = torch.full((8, 4, 4), 0.5)
    ir[2, 1, 1] = float("nan")
    return expect_error(lambda: tiny_trainer(tmp, ir).fit(resume=False), r"'ir' of sample 7 is nan")


@case(5, "the trainer refuses 1e30 inputs (running_var = inf otherwise)")
def case_valid_trainer_huge(tmp: Path) -> Outcome:
    import torch

    ir = torch.full((8, 4, 4), 0.5)
    ir[0, 0, 0] = 1e30
    return expect_error(
        lambda: tiny_trainer(tmp, ir).fit(resume=False), r"'ir' of sample 7 is 1e\+30"
    )


@case(5, "NaN inputs under input_valid = False are accepted")
def case_valid_trainer_masked_nan(tmp: Path) -> Outcome:
    import torch

    ir = torch.full((8, 4, 4), 0.5)
    ir[:, 1, 1] = float("nan")
    valid = torch.ones(4, 4, dtype=torch.bool)
    valid[1, 1] = False

    def run():
        from prelib.validation import check_network_inputs

        batch = {"ir": ir[None], "input_valid": valid[None]}
        check_network_inputs(batch, ("ir",))
        return True, "accepted: the mask covers the NaN"

    return expect_true(run)


@case(5, "an empty validation set is a clear error")
def case_valid_empty_validation(tmp: Path) -> Outcome:
    return expect_error(
        lambda: tiny_trainer(tmp, val=False), r"validation dataset is empty.*--no-validation"
    )


@case(5, "a checkpoint with 64 flipped bytes in its weights is refused")
def case_valid_checkpoint_flip(tmp: Path) -> Outcome:
    import torch

    from prelib.training.checkpoint import load_checkpoint, make_header, save_checkpoint

    weights = torch.arange(4096, dtype=torch.float32)
    path = save_checkpoint(
        tmp / "m.pt", {"header": make_header("m", "tiny", {}, 1), "model": {"w": weights}}
    )
    data = bytearray(path.read_bytes())
    at = bytes(data).find(weights.numpy().tobytes()[:64]) + 2048
    data[at : at + 64] = bytes(64)
    path.write_bytes(bytes(data))
    return expect_error(lambda: load_checkpoint(path), r"m\.pt is corrupted.*SHA-256")


@case(5, "a checkpoint with the wrong tensor shapes names the tensor")
def case_valid_checkpoint_shapes(tmp: Path) -> Outcome:
    import torch

    from prelib.training.checkpoint import load_model_weights, make_header, save_checkpoint

    small = torch.nn.Conv2d(8, 4, 1)
    path = save_checkpoint(
        tmp / "m.pt", {"header": make_header("m", "tiny", {}, 1), "model": small.state_dict()}
    )
    return expect_error(
        lambda: load_model_weights(torch.nn.Conv2d(8, 16, 1), path),
        r"tensor 'weight' has shape \(4, 8, 1, 1\) in the checkpoint",
    )


@case(5, "-p profile=huge on the pipeline is refused like --profile")
def case_valid_pipeline_profile_override(tmp: Path) -> Outcome:
    return expect_cli_error(
        ["pipeline", "run", "--profile", "tiny", "--output-root", str(tmp), "-p", "profile=huge"],
        r"huge",
    )


@case(5, "-p profile=demo is the profile recorded")
def case_valid_pipeline_profile_recorded(tmp: Path) -> Outcome:
    from prelib.pipeline.runner import resolve_standard_overrides

    def run():
        profile, _seed, rest = resolve_standard_overrides("tiny", 0, {"profile": "demo", "x": 1})
        return (profile, rest) == ("demo", {"x": 1}), f"profile {profile}, overrides {rest}"

    return expect_true(run)


@case(5, "--region -40,-30,0,10 parses")
def case_valid_region_negative(tmp: Path) -> Outcome:
    from prelib.cli import _negative_numbers_as_values, build_parser

    def run():
        argv = _negative_numbers_as_values(["infer", "--region", "-40,-30,0,10", "--time", "t"])
        args = build_parser("infer").parse_args(argv)
        return args.region == "-40,-30,0,10", f"region {args.region!r}"

    return expect_true(run)


@case(5, "a negative --min-valid-fraction is refused")
def case_valid_negative_fraction(tmp: Path) -> Outcome:
    (tmp / "a").mkdir()
    argv = [
        "build",
        "fulldisc",
        "--agri-dir",
        str(tmp / "a"),
        "--cldas-dir",
        str(tmp / "a"),
        "--out",
        str(tmp / "x.zarr"),
        "--min-valid-fraction",
        "-0.5",
    ]
    return expect_cli_error(argv, r"min_valid_fraction")


# ------------------------------------------------------------------------------------------
def run_case(c: Case, root: Path) -> Outcome:
    tmp = root / c.id
    tmp.mkdir(parents=True)
    try:
        return c.run(tmp)
    except Exception as err:
        return Outcome("crash", f"case error {type(err).__name__}: {str(err)[:150]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only cases whose id contains this")
    args = parser.parse_args(argv)
    os.environ.setdefault("PRELIB_DATA_DIR", tempfile.mkdtemp(prefix="prelib-faults-data-"))
    selected = [c for c in CASES if args.k in c.id]
    counts = dict.fromkeys(STATUSES, 0)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="prelib-faults-") as root:
        for c in selected:
            t0 = time.perf_counter()
            outcome = run_case(c, Path(root))
            counts[outcome.status] += 1
            print(
                f"{outcome.status:8s} {time.perf_counter() - t0:5.1f}s  [{c.item}] {c.id}: "
                f"{outcome.detail}",
                flush=True,
            )
    total = time.perf_counter() - started
    print(
        f"\n{len(selected)} cases in {total:.0f} s: "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES)
    )
    return 0 if counts["clear"] == len(selected) else 1


if __name__ == "__main__":
    raise SystemExit(main())
