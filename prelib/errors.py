"""The error types prelib raises on purpose: each names the file and what is wrong.

Every class derives from :class:`PrelibError`, so the command line can turn any of them into one
clear line (a traceback only with ``--debug``). Each also derives from the built-in exception
that describes it best (``ValueError``, ``FileExistsError``, ``OSError``), so existing
``except ValueError`` code keeps working.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class PrelibError(Exception):
    """Base of every error prelib raises deliberately (a bad input, a refused write ...)."""


class InvalidDataError(PrelibError, ValueError):
    """Input values that cannot be used: unknown units, out of physical range, all fill,
    non-finite network inputs, a checkpoint whose tensors do not match its checksum."""


class UnsafeFileError(PrelibError, ValueError):
    """A file prelib refuses to open because reading it could run code (pickles)."""


class OutputExistsError(PrelibError, FileExistsError):
    """The output path holds something prelib did not write; it is kept (pass ``--overwrite``
    or ``overwrite=True`` to replace it)."""


class ConcurrentWriteError(PrelibError, BlockingIOError):
    """Another process is writing the same output path right now."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EBUSY, message)

    def __str__(self) -> str:
        return str(self.args[1])


class DiskFullError(PrelibError, OSError):
    """No space left while writing an output; nothing half-written is left behind."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.args[1])


class ProductError(PrelibError, ValueError):
    """A product file cannot be read as asked: truncated, wrong format, missing group or channel,
    unknown version, all fill, or not matching another input.

    The message always starts with the file name so that a log of a long build names the culprit.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    problem : str
        What is wrong, phrased as expected-versus-got where possible.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        where = str(self.path) if self.path is not None else "<input>"
        super().__init__(f"{where}: {problem}")


class AllFillError(ProductError):
    """Every value of a granule's main field is fill (or outside its physical range): nothing
    to learn from; builders record it as a rejection with a warning instead of a sample."""


__all__ = [
    "AllFillError",
    "ConcurrentWriteError",
    "DiskFullError",
    "InvalidDataError",
    "OutputExistsError",
    "PrelibError",
    "ProductError",
    "UnsafeFileError",
]
