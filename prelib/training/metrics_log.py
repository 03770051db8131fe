"""Per-epoch metrics log written as CSV and JSON lines (``metrics.csv``, ``metrics.jsonl``).

Rows are kept in memory and both files are rewritten atomically after every epoch, so a reader
never sees a half row and a resumed run can drop rows newer than its checkpoint.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from prelib.atomic import atomic_path


class MetricsLog:
    """Epoch rows of scalar metrics, mirrored to ``<directory>/metrics.{csv,jsonl}``.

    Parameters
    ----------
    directory : path-like or None
        Output folder; ``None`` keeps the rows in memory only (non-zero DDP ranks).
    """

    def __init__(self, directory: str | os.PathLike | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.rows: list[dict[str, Any]] = []
        if self.directory is not None and (self.directory / "metrics.jsonl").is_file():
            text = (self.directory / "metrics.jsonl").read_text()
            self.rows = [json.loads(line) for line in text.splitlines() if line.strip()]

    def truncate(self, last_epoch: int) -> None:
        """Drop rows of epochs after ``last_epoch`` (used when resuming from a checkpoint)."""
        self.rows = [row for row in self.rows if int(row["epoch"]) <= last_epoch]
        self._write()

    def append(self, row: dict[str, Any]) -> None:
        """Add one epoch's row (must contain ``epoch``) and rewrite both files."""
        if "epoch" not in row:
            raise ValueError("a metrics row needs an 'epoch' entry")
        clean = {k: _scalar(v) for k, v in row.items()}
        self.rows = [r for r in self.rows if r["epoch"] != clean["epoch"]] + [clean]
        self._write()

    def _write(self) -> None:
        if self.directory is None:
            return
        columns: list[str] = []
        for row in self.rows:
            columns += [k for k in row if k not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        with atomic_path(self.directory / "metrics.csv") as tmp:
            tmp.write_text(buffer.getvalue())
        with atomic_path(self.directory / "metrics.jsonl") as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in self.rows))


def _scalar(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
