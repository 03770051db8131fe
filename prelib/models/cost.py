"""What a network costs at inference: parameters and GFLOP per tile (``torch.utils.flop_counter``).

Counted on the inference form of the network (:func:`~prelib.models.preparation.
prepare_for_inference`: LoRA merged, BatchNorm folded), so a LoRA-adapted PRE-Net and its
PRE-Net-Light student are compared as they run. Convolutions and matrix products are counted by
PyTorch's FLOP counter; where this PyTorch version does not count
``scaled_dot_product_attention``, attention's two matrix products (4 · N² · d per head group)
are added from hooks on the ViT blocks. One multiply-add counts as 2 FLOP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from prelib.conventions import N_IR


def forward_gflop(
    net: nn.Module, tile: int = 256, device: str | torch.device = "cpu", in_channels: int = N_IR
) -> float:
    """GFLOP of one ``tile`` × ``tile`` forward pass of ``net`` (batch 1, no mask).

    Parameters
    ----------
    net : nn.Module
        A network taking (1, ``in_channels``, tile, tile) IR.
    tile : int
        Tile edge in pixels.
    device : str or torch.device
    in_channels : int
        Input channels (the eight AGRI IR channels).

    Returns
    -------
    float
        10⁹ floating-point operations.
    """
    from torch.utils.flop_counter import FlopCounterMode

    from prelib.models.vit import Attention

    device = torch.device(device)
    q = torch.zeros(1, 1, 8, 8, device=device)
    with torch.no_grad(), FlopCounterMode(display=False) as probe:
        F.scaled_dot_product_attention(q, q, q)
    extra = [0]
    hooks = []
    if probe.get_total_flops() == 0:

        def count(module, inputs, output):
            batch, tokens, dim = inputs[0].shape
            extra[0] += 4 * batch * tokens * tokens * dim

        hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, Attention)]
    x = torch.rand(1, in_channels, tile, tile, device=device)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(x)
    finally:
        for hook in hooks:
            hook.remove()
    return (counter.get_total_flops() + extra[0]) / 1e9


def pair_cost(classifier: nn.Module, regressor: nn.Module, tile: int = 256) -> dict[str, float]:
    """Parameters and GFLOP per ``tile``² tile of a classifier + regressor pair, as they run.

    Returns
    -------
    dict
        ``params`` (count, both networks) and ``gflop`` (per tile, both networks), each network
        counted in its inference form (LoRA merged, BatchNorm folded) on the CPU.
    """
    from prelib.models.preparation import prepare_for_inference

    params, gflop = 0, 0.0
    for net in (classifier, regressor):
        ready = prepare_for_inference(net, "cpu", channels_last=False)
        params += sum(p.numel() for p in ready.parameters())
        gflop += forward_gflop(ready, tile, "cpu")
    return {"params": float(params), "gflop": gflop}
