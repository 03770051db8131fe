"""Self-MaskTune and its siblings (Wang et al., KDD 2025, §3.3): what Full-Disc Adaptation masks.

* :mod:`~prelib.training.masktune.rules` — pure tensor rules: loss pooling to the base grid, the
  flagging rules (the paper's max-fraction, the code's quantile) and the batch merge;
* :mod:`~prelib.training.masktune.store` — the per-sample flags, double-buffered, checkpointed;
* :mod:`~prelib.training.masktune.tuner` — :class:`MaskTuneConfig` and :class:`MaskTuner`, the
  object the :class:`~prelib.training.trainer.Trainer` asks for each batch's base mask.

The base grid and random masks themselves live in :mod:`prelib.models.masking`.
"""

from prelib.training.masktune.rules import (
    MERGES,
    POOLS,
    flag_max_fraction,
    flag_quantile,
    merge_flags,
    pool_loss_map,
)
from prelib.training.masktune.store import MaskStore
from prelib.training.masktune.tuner import RULES, STRATEGIES, MaskTuneConfig, MaskTuner

__all__ = [
    "MERGES",
    "POOLS",
    "RULES",
    "STRATEGIES",
    "MaskStore",
    "MaskTuneConfig",
    "MaskTuner",
    "flag_max_fraction",
    "flag_quantile",
    "merge_flags",
    "pool_loss_map",
]
