"""The one error type of the real-product readers: a bad file, named, with what is wrong."""

from __future__ import annotations

import os

from prelib.errors import AllFillError, ProductError

__all__ = ["AllFillError", "AllFillWarning", "ProductError", "warn_all_fill"]


class AllFillWarning(UserWarning):
    """A granule whose main field is entirely fill: readable, but nothing to learn from."""


def warn_all_fill(path: str | os.PathLike, what: str) -> None:
    """Emit :class:`AllFillWarning` naming the file and the field that is all fill."""
    import warnings

    warnings.warn(
        AllFillWarning(f"{path}: every {what} value is fill (an all-fill granule)"), stacklevel=3
    )
