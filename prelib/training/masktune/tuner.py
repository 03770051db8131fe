"""Mask strategies of Full-Disc Adaptation: Non-, Rand- and Self-MaskTune (the tuner).

PRE-Net's student takes a binary *base mask* on a coarse grid (one cell per 16 × 16 input
pixels; 1 = keep, 0 = zero the features), upsampled inside the network to every masked level
(Wang et al., KDD 2025, §3.3, Eqs. 7–10; prenet_reference.md §4.3, §6.4). Three strategies:

* ``none`` (paper: Non-MaskTune) — an all-ones mask at every step.
* ``random`` (Rand-MaskTune) — a fresh random base mask with exactly ⌊α·n⌋ zero cells at every
  step, shared by the batch (as the reference code does).
* ``self`` (Self-MaskTune) — no masking in epochs 1…K; from epoch K+1 on, each sample's mask comes
  from its own per-pixel task loss of the previous epoch, ``M(y, t−1)``:

  - ``rule="quantile"`` (the reference code; our default): keep the top ``mask_ratio`` fraction
    of cells by pooled loss (the code's 75th-percentile threshold for α = 0.25), optionally with
    the code's random re-enabling (``noise_keep = 0.1`` flips a flagged cell back to "not
    flagged").
  - ``rule="max_fraction"`` (the paper, Eqs. 8–9): keep the cells whose pooled loss is at least
    ρ · max(loss) of that sample; the paper gives no value for ρ (ours 0.5). Not the default
    because the kept fraction follows the tail of the loss, not α: on demo loss maps ρ = 0.5 keeps
    a median 1 % of a regressor's cells (MSE is heavy-tailed; 8 % even at ρ = 0.02) and 9 % of a
    classifier's (31 % at ρ = 0.2), so one ρ cannot serve both networks.

  ``merge="sample"`` gives each sample its own mask (the paper's per-sample M); ``merge="batch"``
  reproduces the code's batch merge: count, per cell, the samples that did *not* flag it, and keep
  the cells at or below the ``mask_ratio`` quantile of those counts, shared by the batch.

Fixes of the reference code's defects (§6.4, §9.7), by design:

* The pixel loss map is reduced to the base grid by a real block reduction (``pool="mean"``, our
  default, or ``"max"``), not by picking one pixel per block (the code's order-0 zoom).
* Any batch size works, and NaN labels are ignored: the step function returns a loss map with NaN
  where the label is missing; a cell without any valid pixel is "not flagged", and a sample
  without any valid pixel keeps an all-ones mask.
* The per-sample store lives in the main process (not in DataLoader workers), is keyed by the
  dataset index, is double-buffered (updates of epoch t are used in epoch t+1, also under DDP where
  the ranks' updates are gathered) and is checkpointed.

Base grid: ``(max(1, H // cell), max(1, W // cell))`` — the stride-16 token grid of PRE-Net, whose
four 2× down-samplings floor odd sizes (a 256 × 49 swath gives 16 × 3). Rows and columns left over
by the floor belong to the last cell, so every pixel's loss is counted.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from prelib.config import Config, require_choice, require_in_range, require_positive
from prelib.models.masking import base_grid_shape, random_base_mask
from prelib.training.masktune.rules import (
    MERGES,
    POOLS,
    flag_max_fraction,
    flag_quantile,
    merge_flags,
    pool_loss_map,
)
from prelib.training.masktune.store import MaskStore, as_index_list

STRATEGIES: tuple[str, ...] = ("none", "random", "self")
RULES: tuple[str, ...] = ("max_fraction", "quantile")
MASK_TARGETS: tuple[str, ...] = ("ae", "ae+conv")
"""What a Stage-II mask hides: the AE input only (paper, Eq. 7) or also the conv features."""


@dataclasses.dataclass(frozen=True)
class MaskTuneConfig(Config):
    """Settings of the mask strategy (see the module docstring).

    Attributes
    ----------
    strategy : str
        ``"none"``, ``"random"`` or ``"self"``.
    unmasked_epochs : int
        K: epochs 1…K run without a mask under ``self`` (reference code: 39).
    mask_ratio : float
        α: fraction of zero cells of a random mask; the quantile of the ``quantile`` rule and of
        the batch merge (paper and code: 0.25).
    rule : str
        ``"max_fraction"`` (paper, ρ·max) or ``"quantile"`` (code).
    rho : float
        ρ of the ``max_fraction`` rule, in (0, 1].
    pool : str
        Block reduction from pixels to base cells: ``"mean"`` or ``"max"``.
    merge : str
        ``"sample"`` (per-sample masks) or ``"batch"`` (the code's batch merge).
    noise_keep : float
        Probability that a flagged cell is un-flagged at random (code: 0.1; paper: 0).
    cell : int
        Input pixels per base cell along each axis (PRE-Net: 16).
    target : str
        What the mask hides in PRE-Net: ``"ae"`` (the paper's Eq. 7, default) masks the AE's
        input tokens only and leaves the masked-conv features — the decoder's skip connections
        and the next level's input — untouched; ``"ae+conv"`` (the reference code) also zeroes
        the conv features of masked cells.
    """

    strategy: str = "none"
    unmasked_epochs: int = 39
    mask_ratio: float = 0.25
    rule: str = "quantile"
    rho: float = 0.5
    pool: str = "mean"
    merge: str = "sample"
    noise_keep: float = 0.0
    cell: int = 16
    target: str = "ae"

    def validate(self) -> None:
        require_choice(self, "strategy", STRATEGIES)
        require_choice(self, "target", MASK_TARGETS)
        require_choice(self, "rule", RULES)
        require_choice(self, "pool", POOLS)
        require_choice(self, "merge", MERGES)
        require_in_range(self, "mask_ratio", 0.0, 1.0)
        require_in_range(self, "noise_keep", 0.0, 1.0)
        require_positive(self, "rho")
        require_in_range(self, "rho", 0.0, 1.0)
        require_positive(self, "cell")
        if not isinstance(self.unmasked_epochs, int) or self.unmasked_epochs < 0:
            raise ValueError(
                f"MaskTuneConfig.unmasked_epochs must be an integer >= 0, "
                f"got {self.unmasked_epochs!r}"
            )

    @classmethod
    def reference_code(cls) -> MaskTuneConfig:
        """The published code's Self-MaskTune (K = 39, 75th percentile, 10 % noise, batch merge),
        with its two defects fixed (block pooling, any batch size / NaN labels)."""
        return cls(
            strategy="self",
            unmasked_epochs=39,
            mask_ratio=0.25,
            rule="quantile",
            pool="max",
            merge="batch",
            noise_keep=0.1,
            target="ae+conv",
        )


# ------------------------------------------------------------------------------------------
# The strategy object used by the trainer
# ------------------------------------------------------------------------------------------
class MaskTuner:
    """Produces each batch's base mask and learns Self-MaskTune flags from loss maps.

    Parameters
    ----------
    config : MaskTuneConfig
    seed : int
        Seed of the tuner's own generator (random masks, noise), checkpointed with it.

    Notes
    -----
    Epochs are 1-indexed. Under ``self``, losses are recorded from epoch K on (epoch K is the
    "t − 1" of the first masked epoch K + 1).
    """

    def __init__(self, config: MaskTuneConfig | None = None, seed: int = 0) -> None:
        self.config = config or MaskTuneConfig()
        self.store = MaskStore()
        self.generator = torch.Generator().manual_seed(int(seed))

    def masking(self, epoch: int) -> bool:
        """Whether batches of ``epoch`` get a non-trivial mask."""
        cfg = self.config
        return cfg.strategy == "random" or (cfg.strategy == "self" and epoch > cfg.unmasked_epochs)

    def records_losses(self, epoch: int) -> bool:
        """Whether ``epoch``'s loss maps feed the next epoch's masks."""
        return self.config.strategy == "self" and epoch >= self.config.unmasked_epochs

    def batch_mask(
        self, indices: torch.Tensor | None, image_shape: tuple[int, int], epoch: int
    ) -> torch.Tensor:
        """The base mask of one batch.

        Parameters
        ----------
        indices : Tensor, shape (B,), or None
            Dataset indices of the batch's samples (required by ``self``).
        image_shape : (H, W)
            Input size in pixels.
        epoch : int
            1-indexed epoch.

        Returns
        -------
        Tensor, shape (B, 1, h0, w0), float32
        """
        cfg = self.config
        grid = base_grid_shape(*image_shape, cfg.cell)
        if indices is None:
            if cfg.strategy == "self":
                raise ValueError("Self-MaskTune needs the batch's dataset indices ('index' key)")
            raise ValueError("batch_mask needs the batch's indices to know the batch size")
        batch = len(as_index_list(indices))
        if cfg.strategy == "random":
            # one mask shared by the batch, as the reference code does
            mask = random_base_mask(grid, cfg.mask_ratio, batch=1, generator=self.generator)
            return mask.expand(batch, 1, *grid).contiguous()
        if not self.masking(epoch):
            return torch.ones(batch, 1, *grid)
        return merge_flags(self.store.get(indices, grid), cfg.merge, cfg.mask_ratio)

    def observe(self, indices: torch.Tensor, loss_map: torch.Tensor, epoch: int) -> None:
        """Record the per-pixel losses (B, H, W) of a training batch (NaN = invalid label)."""
        if not self.records_losses(epoch):
            return
        cfg = self.config
        pooled = pool_loss_map(loss_map, cfg.cell, cfg.pool)
        if cfg.rule == "max_fraction":
            flags = flag_max_fraction(pooled, cfg.rho)
        else:
            flags = flag_quantile(pooled, cfg.mask_ratio, cfg.noise_keep, self.generator)
        self.store.put(indices, flags)

    def end_epoch(self, gather=None) -> None:
        """Publish this epoch's flags for the next one."""
        self.store.commit(gather)

    def state_dict(self) -> dict[str, Any]:
        return {"store": self.store.state_dict(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.store.load_state_dict(state["store"])
        self.generator.set_state(state["generator"])
