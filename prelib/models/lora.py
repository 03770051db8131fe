"""LoRA adapters for the AE's linear layers and the Stage-II freezing policies.

Low-Rank Adaptation (Hu et al., ICLR 2022) replaces a frozen weight ``W`` by
``W + (α / r) · B A`` with ``A`` (r × in) and ``B`` (out × r). PRE-Net's Full-Disc Adaptation
(Wang et al., KDD 2025, §3.3; prenet_reference.md §6.2) adapts every ``qkv``, ``proj``, ``fc1`` and
``fc2`` of the 36 ViT blocks with r = 1, α = 1: 144 matrices, 110,592 parameters at paper size.
``A`` starts as N(0, 1) and ``B`` at zero, so the adapted model starts *identical* to the
pre-trained one.

Freezing (:func:`freeze_for_adaptation`):

* ``"paper"`` (default, §3.3 of the paper: "freeze the convolutional layers … update only the AE
  through LoRA"): the conv encoder (embedding, masked convs, bottom Down), DAWE and the AE's base
  weights are frozen; the LoRA adapters, the decoder and the head train.
* ``"code"`` (reference code, discrepancy #9): only the AE's base weights are frozen; the conv
  encoder, DAWE, decoder, head and adapters train.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

FREEZE_POLICIES: tuple[str, ...] = ("paper", "code")


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a rank-``r`` update ``(alpha / r) · B A``.

    Parameters
    ----------
    base : nn.Linear
        The pre-trained layer (kept as ``self.base``; its parameters are frozen).
    rank, alpha : int, float
        Rank r and scale numerator α.

    Shape: (..., in) → (..., out), same as ``base``.
    """

    def __init__(self, base: nn.Linear, rank: int = 1, alpha: float = 1.0) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {rank}")
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features, device=base.weight.device))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))
        self.merged = False
        for p in base.parameters():
            p.requires_grad_(False)

    def delta(self) -> torch.Tensor:
        """The weight update ``scale · B A``, shape (out, in)."""
        return self.scale * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.merged:
            return out
        # x A^T B^T keeps the cost O(r) per token instead of forming the full ΔW.
        return out + self.scale * F.linear(F.linear(x, self.lora_A), self.lora_B)

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into ``base.weight`` (for inference); idempotent."""
        if not self.merged:
            self.base.weight += self.delta().to(self.base.weight.dtype)
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Undo :meth:`merge` (equal up to floating-point rounding); idempotent."""
        if self.merged:
            self.base.weight -= self.delta().to(self.base.weight.dtype)
            self.merged = False


def _vit_linears(model: nn.Module, targets: tuple[str, ...]) -> list[tuple[nn.Module, str]]:
    """(parent, attribute) of every ``nn.Linear`` named in ``targets`` inside ViT blocks."""
    from prelib.models.vit import Block

    found = []
    for block in model.modules():
        if not isinstance(block, Block):
            continue
        for parent in block.modules():
            for name, child in parent.named_children():
                if name in targets and isinstance(child, nn.Linear):
                    found.append((parent, name))
    return found


def apply_lora(
    model: nn.Module,
    rank: int = 1,
    alpha: float = 1.0,
    targets: tuple[str, ...] = ("qkv", "proj", "fc1", "fc2"),
) -> int:
    """Wrap the targeted linear layers of every ViT block of ``model`` in :class:`LoRALinear`.

    Apply after loading the pre-trained (Stage-I) weights: the state-dict keys of adapted layers
    change from ``…qkv.weight`` to ``…qkv.base.weight`` plus ``…qkv.lora_A`` / ``lora_B``.

    Parameters
    ----------
    model : nn.Module
        Typically a :class:`~prelib.models.prenet.PRENet`.
    rank, alpha : int, float
        LoRA rank and scale numerator (paper code: 1, 1).
    targets : tuple of str
        Linear-layer names inside the blocks (``qkv``, ``proj``, ``fc1``, ``fc2``).

    Returns
    -------
    int
        Number of adapted layers (144 for the paper PRE-Net).

    Raises
    ------
    ValueError
        If nothing matches or ``model`` already has adapters.
    """
    if any(isinstance(m, LoRALinear) for m in model.modules()):
        raise ValueError("apply_lora: the model already has LoRA adapters")
    layers = _vit_linears(model, tuple(targets))
    if not layers:
        raise ValueError(f"apply_lora: no linear layer named {list(targets)} inside ViT blocks")
    for parent, name in layers:
        setattr(parent, name, LoRALinear(getattr(parent, name), rank, alpha))
    return len(layers)


def lora_modules(model: nn.Module) -> list[LoRALinear]:
    """All :class:`LoRALinear` layers of ``model``."""
    return [m for m in model.modules() if isinstance(m, LoRALinear)]


def lora_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """The adapter matrices ``lora_A`` and ``lora_B`` of every adapted layer."""
    for module in lora_modules(model):
        yield module.lora_A
        yield module.lora_B


def merge_lora(model: nn.Module) -> None:
    """Fold every adapter into its base weight (faster inference; outputs unchanged)."""
    for module in lora_modules(model):
        module.merge()


def unmerge_lora(model: nn.Module) -> None:
    """Undo :func:`merge_lora`."""
    for module in lora_modules(model):
        module.unmerge()


def freeze_for_adaptation(model: nn.Module, policy: str = "paper") -> dict[str, int]:
    """Set ``requires_grad`` for Full-Disc Adaptation of a LoRA-adapted PRE-Net.

    Parameters
    ----------
    model : PRENet
        With adapters applied (:func:`apply_lora`).
    policy : str
        ``"paper"`` or ``"code"`` (see the module docstring).

    Returns
    -------
    dict
        ``{"trainable": n, "frozen": m}`` parameter counts.
    """
    if policy not in FREEZE_POLICIES:
        raise ValueError(f"unknown freeze policy {policy!r}; choose one of {list(FREEZE_POLICIES)}")
    adapters = {id(p) for p in lora_parameters(model)}
    if not adapters:
        raise ValueError("freeze_for_adaptation: apply_lora(model, …) first (no adapters found)")
    encoder = getattr(model, "encoder", None)
    if encoder is None or not hasattr(encoder, "ae"):
        raise ValueError("freeze_for_adaptation expects a PRENet (with .encoder.ae)")
    autoencoder = {id(p) for p in encoder.ae.parameters()}
    conv_encoder = {id(p) for p in encoder.parameters()} - autoencoder
    frozen = autoencoder - adapters
    if policy == "paper":
        frozen |= conv_encoder
    counts = {"trainable": 0, "frozen": 0}
    for p in model.parameters():
        trainable = id(p) not in frozen
        p.requires_grad_(trainable)
        counts["trainable" if trainable else "frozen"] += p.numel()
    return counts


def lora_parameter_count(model: nn.Module) -> int:
    """Total adapter parameters (r · (in + out) per adapted layer)."""
    return sum(p.numel() for p in lora_parameters(model))


def expected_lora_count(dim: int, depth_total: int, rank: int, mlp_ratio: float = 4.0) -> int:
    """Adapter parameters for ``depth_total`` blocks of width ``dim`` (qkv, proj, fc1, fc2)."""
    hidden = int(dim * mlp_ratio)
    per_block = (dim + 3 * dim) + (dim + dim) + (dim + hidden) + (hidden + dim)
    return rank * per_block * depth_total
