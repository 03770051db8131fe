"""Train / validation / test periods of the benchmarks: splits are disjoint in time.

* **Full-IPR** follows the paper exactly (prenet_reference.md §2.3): 2022 January–October
  train, 2022 November–December validation, all of 2023 test.
* **Swath-MPR**: the paper takes train and validation from 2021 and test from 2022 but does not
  say how 2021 is divided. We hold out one week in nine of 2021 (weeks 9, 18, 27, 36, 45 … of the
  year, ≈ 11 %, close to the paper's 279 / (2281 + 279)) so that validation covers every season
  (a last-two-months split would validate the teacher on winter only), and whole weeks rather than
  single days so that one weather system does not straddle train and validation.

Sample times are whole hours (the end of the hourly label, as in CLDAS), UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from prelib.data.benchmark_config import check_kind, check_split

VALIDATION_WEEK_PERIOD = 9
"""Swath-MPR validation takes one week in this many of the training year."""


@dataclass(frozen=True)
class SplitPeriod:
    """The days a split draws its samples from.

    Attributes
    ----------
    start, end : numpy.datetime64
        Half-open day range ``[start, end)``.
    week_filter : str
        ``"all"``, ``"validation_weeks"`` (only weeks ``w`` with ``w % 9 == 8``) or
        ``"non_validation_weeks"`` (the others); weeks count from ``start``.
    """

    start: np.datetime64
    end: np.datetime64
    week_filter: str = "all"

    def days(self) -> np.ndarray:
        """All allowed days, ``datetime64[D]`` (n_days,)."""
        days = np.arange(self.start, self.end, dtype="datetime64[D]")
        week = (days - self.start).astype(np.int64) // 7
        held_out = week % VALIDATION_WEEK_PERIOD == VALIDATION_WEEK_PERIOD - 1
        if self.week_filter == "validation_weeks":
            return days[held_out]
        if self.week_filter == "non_validation_weeks":
            return days[~held_out]
        return days


def _day(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


SPLIT_PERIODS: dict[tuple[str, str], SplitPeriod] = {
    ("swath", "train"): SplitPeriod(_day("2021-01-01"), _day("2022-01-01"), "non_validation_weeks"),
    ("swath", "val"): SplitPeriod(_day("2021-01-01"), _day("2022-01-01"), "validation_weeks"),
    ("swath", "test"): SplitPeriod(_day("2022-01-01"), _day("2023-01-01")),
    ("fulldisc", "train"): SplitPeriod(_day("2022-01-01"), _day("2022-11-01")),
    ("fulldisc", "val"): SplitPeriod(_day("2022-11-01"), _day("2023-01-01")),
    ("fulldisc", "test"): SplitPeriod(_day("2023-01-01"), _day("2024-01-01")),
}


def split_period(kind: str, split: str) -> SplitPeriod:
    """The :class:`SplitPeriod` of a benchmark kind and split (both validated)."""
    return SPLIT_PERIODS[(check_kind(kind), check_split(split))]


def split_of_time(kind: str, time: object) -> str | None:
    """The split whose period holds ``time``, or ``None`` (used to check real-data builds)."""
    day = np.datetime64(np.datetime64(time, "ns"), "D")
    for split in ("train", "val", "test"):
        if bool(np.isin(day, split_period(kind, split).days())):
            return split
    return None
