"""Atomic output that never destroys what prelib did not write.

:func:`atomic_path` yields a temporary sibling path; when the block succeeds the temporary is
renamed onto the target, so a reader never sees a half-written NetCDF, Zarr store, checkpoint or
JSON file: either the old content or the complete new one. Used by every writer in prelib.

Safety rules, in order:

* **Ownership.** Every write records the artefact in a hidden sidecar folder beside it,
  ``<parent>/.prelib-artefacts/<name>.json`` (kind, inode, and for files size and modification
  time). An existing target is replaced only if that record matches it and names the same kind
  (``"nc"``, ``"zarr"`` ...); anything else — a user's file or folder, an artefact of another
  kind, or a prelib file edited since — is kept and :class:`~prelib.errors.OutputExistsError`
  is raised, unless ``overwrite=True`` (the command line's ``--overwrite``).
* **One writer per target.** A lock file (:mod:`filelock`) in the sidecar folder is held for the
  whole write; a second process writing the same target gets
  :class:`~prelib.errors.ConcurrentWriteError` at once (or after ``lock_timeout`` seconds).
* **Nothing left behind.** Temporaries are named ``.<name>.tmp-<pid>-<random>``; on an error they
  are removed, and the ones of dead processes (killed with ``kill -9``) are removed by the next
  write to the same target (pid no longer running, or older than :data:`STALE_AGE_S`).
* **Disk full.** ``ENOSPC`` becomes :class:`~prelib.errors.DiskFullError` naming the file
  system and roughly how much was needed; the target keeps its old content.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prelib.errors import ConcurrentWriteError, DiskFullError, OutputExistsError

SIDECAR_DIR = ".prelib-artefacts"
"""Hidden folder, beside each output, holding the ownership records and lock files."""

STALE_AGE_S = 6 * 3600.0
"""A temporary older than this is stale even if a process with its pid is running (pid reuse)."""

_OVERWRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("prelib_overwrite", default=False)
_TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-(?:(?P<pid>\d+)-)?[0-9a-f]{8}$")


@contextlib.contextmanager
def overwrite_allowed(allowed: bool = True) -> Iterator[None]:
    """Within the block, writes replace targets prelib did not write (``--overwrite``)."""
    token = _OVERWRITE.set(bool(allowed))
    try:
        yield
    finally:
        _OVERWRITE.reset(token)


def default_kind(target: str | os.PathLike) -> str:
    """The artefact kind implied by a file name: its suffix without the dot (``"nc"``,
    ``"zarr"``, ``"pt"`` ...), or ``"plain"`` without one."""
    suffix = Path(target).suffix.lower().lstrip(".")
    return suffix or "plain"


def _record_path(target: Path) -> Path:
    return target.parent / SIDECAR_DIR / f"{target.name}.json"


def _lock_path(target: Path) -> Path:
    return target.parent / SIDECAR_DIR / f"{target.name}.lock"


def _describe(path: Path, kind: str) -> dict[str, Any]:
    st = path.lstat()
    entry: dict[str, Any] = {"kind": kind, "ino": st.st_ino, "is_dir": path.is_dir()}
    if not entry["is_dir"]:
        entry.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
    return entry


def _read_records(target: Path) -> list[dict[str, Any]]:
    try:
        payload = json.loads(_record_path(target).read_text())
        return [r for r in payload.get("records", []) if isinstance(r, dict)]
    except (OSError, ValueError, AttributeError):
        return []


def _write_records(target: Path, records: list[dict[str, Any]]) -> None:
    record = _record_path(target)
    tmp = record.with_name(f".{record.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(json.dumps({"written_by": "prelib", "records": records}))
        os.replace(tmp, record)
    finally:
        tmp.unlink(missing_ok=True)


def _matching_record(target: Path) -> dict[str, Any] | None:
    """The ownership record that describes ``target`` as it is now, if any."""
    if target.is_symlink() or not target.exists():
        return None
    now = _describe(target, "")
    for record in _read_records(target):
        same = record.get("ino") == now["ino"] and record.get("is_dir") == now["is_dir"]
        if same and not now["is_dir"]:
            same = record.get("size") == now["size"] and record.get("mtime_ns") == now["mtime_ns"]
        if same:
            return record
    return None


def artefact_kind(target: str | os.PathLike) -> str | None:
    """The kind of prelib artefact at ``target``, or ``None`` if prelib did not write it (or it
    was changed since)."""
    record = _matching_record(Path(target))
    return None if record is None else str(record.get("kind"))


def check_output(
    target: str | os.PathLike, kind: str | None = None, overwrite: bool | None = None
) -> Path:
    """Raise :class:`~prelib.errors.OutputExistsError` now if writing ``target`` would be refused.

    Call it before a long computation whose result goes to ``target``, so the refusal comes
    first. Returns ``target`` as a :class:`~pathlib.Path`.
    """
    target = Path(target)
    kind = kind or default_kind(target)
    overwrite = _OVERWRITE.get() if overwrite is None else bool(overwrite)
    if overwrite or not (target.exists() or target.is_symlink()):
        return target
    found = artefact_kind(target)
    if found == kind:
        return target
    what = "folder" if target.is_dir() else "file"
    if found is None:
        reason = f"an existing {what} that prelib did not write (or that was changed since)"
    else:
        reason = f"a prelib '{found}' artefact, not a '{kind}' one"
    raise OutputExistsError(
        f"{target}: refusing to replace {reason}; choose another output path or pass "
        "--overwrite (overwrite=True) to replace it"
    )


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove ``.<name>.tmp-*`` / ``.<name>.old-*`` siblings of ``target`` left by dead processes.

    A temporary is stale when the process whose pid is in its name no longer runs, or when it is
    older than :data:`STALE_AGE_S` (or carries no pid and is older than that). Returns what was
    removed. Call it only while holding the target's lock (as :func:`atomic_path` does).
    """
    target = Path(target)
    removed = []
    if not target.parent.is_dir():
        return removed
    now = time.time()
    for path in target.parent.glob(f".{glob_escape(target.name)}.*-*"):
        match = _TEMP_PATTERN.match(path.name)
        if not match or match["name"] != target.name:
            continue
        try:
            age = now - path.lstat().st_mtime
        except FileNotFoundError:
            continue
        pid = int(match["pid"]) if match["pid"] else None
        if (pid is not None and not _pid_alive(pid)) or age > STALE_AGE_S:
            _remove(path)
            removed.append(path)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with the glob metacharacters ``*?[`` escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _size_of(path: Path) -> int:
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _is_disk_full(err: BaseException) -> bool:
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(err):
            return True
        err = err.__cause__ or err.__context__
        seen += 1
    return False


def _disk_full_error(target: Path, written: int, expected_bytes: int | None) -> DiskFullError:
    needed = max(written, expected_bytes or 0)
    try:
        free = shutil.disk_usage(target.parent).free
        free_text = f", {free / 1e6:.0f} MB free"
    except OSError:
        free_text = ""
    return DiskFullError(
        f"no space left on {_mount_point(target.parent)} while writing {target} "
        f"(needed ~{max(needed / 1e6, 0.1):.1f} MB or more{free_text}); nothing was written "
        "and any previous content is intact: free some space and rerun"
    )


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike,
    *,
    kind: str | None = None,
    overwrite: bool | None = None,
    lock_timeout: float = 0.0,
    expected_bytes: int | None = None,
) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    Works for files and directories (Zarr stores). On an exception the temporary path is removed
    and ``target`` is left untouched.

    Parameters
    ----------
    target : path-like
        The final file or folder.
    kind : str, optional
        The artefact kind recorded and required of an existing target; default: the suffix
        (:func:`default_kind`).
    overwrite : bool, optional
        Replace a target prelib did not write (or of another kind). Default: ``False``, or
        ``True`` inside :func:`overwrite_allowed` (the command line's ``--overwrite``).
    lock_timeout : float
        Seconds to wait for another process writing the same target; ``0`` refuses at once.
    expected_bytes : int, optional
        Size hint used in the disk-full message.

    Raises
    ------
    prelib.errors.OutputExistsError
        ``target`` exists and is not a prelib artefact of the same ``kind`` (checked before the
        block runs, so no work is wasted).
    prelib.errors.ConcurrentWriteError
        Another process holds the target's lock.
    prelib.errors.DiskFullError
        The file system filled up; the temporary is removed.

    Examples
    --------
    >>> with atomic_path("out.nc") as tmp:          # doctest: +SKIP
    ...     dataset.to_netcdf(tmp)
    """
    from filelock import FileLock, Timeout

    target = Path(target)
    kind = kind or default_kind(target)
    overwrite = _OVERWRITE.get() if overwrite is None else bool(overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    check_output(target, kind, overwrite)
    sidecar = target.parent / SIDECAR_DIR
    sidecar.mkdir(exist_ok=True)
    lock = FileLock(_lock_path(target), timeout=max(float(lock_timeout), 0.0))
    try:
        lock.acquire()
    except Timeout:
        raise ConcurrentWriteError(
            f"{target}: another process is writing this output right now (lock "
            f"{_lock_path(target)}); wait for it to finish or choose another output path",
        ) from None
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = target.with_name(f".{target.name}.tmp-{tag}")
    try:
        clean_stale_temporaries(target)
        check_output(target, kind, overwrite)  # again: it may have changed while we waited
        try:
            yield tmp
            if not tmp.exists():
                raise FileNotFoundError(f"nothing was written to the temporary path for {target}")
            previous = _read_records(target) if _matching_record(target) else []
            _write_records(target, [_describe(tmp, kind), *previous[:1]])
            if target.is_dir() and not target.is_symlink():
                backup = target.with_name(f".{target.name}.old-{tag}")
                os.replace(target, backup)
                os.replace(tmp, target)
                _remove(backup)
            else:
                os.replace(tmp, target)
            _write_records(target, [_describe(target, kind)])
        except BaseException as err:
            if _is_disk_full(err):
                written = _size_of(tmp)
                _remove(tmp)
                raise _disk_full_error(target, written, expected_bytes) from err
            raise
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)
        if not _record_path(target).exists():  # nothing recorded: leave no trace either
            _lock_path(target).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                sidecar.rmdir()
        lock.release()


def mark_artefact(target: str | os.PathLike, kind: str | None = None) -> Path:
    """Record ``target`` (already written by prelib by other means) as a prelib artefact."""
    target = Path(target)
    (target.parent / SIDECAR_DIR).mkdir(exist_ok=True)
    _write_records(target, [_describe(target, kind or default_kind(target))])
    return target


def write_json(target: str | os.PathLike, payload: Any, **kwargs: Any) -> Path:
    """Write ``payload`` as indented JSON atomically; returns the path.

    ``overwrite`` and ``kind`` in ``kwargs`` go to :func:`atomic_path`, the rest to
    :func:`json.dumps`.
    """
    target = Path(target)
    options = {k: kwargs.pop(k) for k in ("overwrite", "kind") if k in kwargs}
    with atomic_path(target, **options) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str, **kwargs))
    return target


__all__ = [
    "SIDECAR_DIR",
    "STALE_AGE_S",
    "artefact_kind",
    "atomic_path",
    "check_output",
    "clean_stale_temporaries",
    "default_kind",
    "mark_artefact",
    "overwrite_allowed",
    "write_json",
]
