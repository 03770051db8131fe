"""The one error type of the real-product readers: a bad file, named, with what is wrong."""

from __future__ import annotations

import os
from pathlib import Path

from prelib.errors import PrelibError


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


class AllFillWarning(UserWarning):
    """A granule whose main field is entirely fill: readable, but nothing to learn from."""


def warn_all_fill(path: str | os.PathLike, what: str) -> None:
    """Emit :class:`AllFillWarning` naming the file and the field that is all fill."""
    import warnings

    warnings.warn(
        AllFillWarning(f"{path}: every {what} value is fill (an all-fill granule)"), stacklevel=3
    )


class AllFillError(ProductError):
    """Every value of a granule's main field is fill (or outside its physical range): nothing
    to learn from; builders record it as a rejection with a warning instead of a sample."""
