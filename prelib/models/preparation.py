"""Make trained networks inference-ready: eval mode, merged LoRA, folded BatchNorm, channels-last.

Every step leaves the function computed unchanged (up to float rounding, ≤ 1e-5 relative) and
only removes work:

* **LoRA merged** into the base weights (:func:`prelib.models.lora.merge_lora`): the adapted
  ViT blocks then run one matmul per linear layer instead of three.
* **BatchNorm folded** into the preceding bias-free convolution (evaluation statistics are
  constants): ``conv → BN`` becomes one convolution with a bias, which removes one element-wise
  pass over every feature map.
* **channels-last** memory format, which oneDNN (CPU) and cuDNN (GPU) convolutions prefer.
* gradients off (``requires_grad_(False)``); the engine runs under ``torch.inference_mode``.

:func:`prepare_for_inference` works on copies, so a model shared with training is not altered.
"""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn

from prelib.models.lora import lora_modules, merge_lora


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every ``Conv2d → BatchNorm2d`` pair of an ``nn.Sequential`` into the convolution.

    The BatchNorm is replaced by ``nn.Identity``. Only valid in evaluation mode (running
    statistics); the model is modified in place.

    Returns
    -------
    int
        Number of folded pairs.
    """
    folded = 0
    for parent in model.modules():
        if not isinstance(parent, nn.Sequential):
            continue
        names = [name for name, _ in parent.named_children()]
        for first, second in itertools.pairwise(names):
            conv, norm = getattr(parent, first), getattr(parent, second)
            if not (
                isinstance(conv, nn.Conv2d)
                and isinstance(norm, nn.BatchNorm2d)
                and norm.track_running_stats
                and norm.running_mean is not None
            ):
                continue
            with torch.no_grad():
                scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
                bias = norm.bias - norm.running_mean * scale
                if conv.bias is not None:
                    bias = bias + conv.bias * scale
                conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
                if conv.bias is None:
                    conv.bias = nn.Parameter(bias.clone())
                else:
                    conv.bias.copy_(bias)
            setattr(parent, second, nn.Identity())
            folded += 1
    return folded


def prepare_for_inference(
    model: nn.Module,
    device: str | torch.device = "cpu",
    *,
    channels_last: bool = True,
    fold_bn: bool = True,
    copy_model: bool = True,
) -> nn.Module:
    """An evaluation-only version of ``model`` on ``device``.

    Parameters
    ----------
    model : nn.Module
        Any prelib network or a composition of them (e.g.
        :class:`~prelib.inference.composition.TwoNetworkRetrieval`).
    device : str or torch.device
        Where it will run.
    channels_last : bool
        Convert 4-D parameters to ``torch.channels_last``.
    fold_bn : bool
        Fold BatchNorm into the preceding convolutions.
    copy_model : bool
        Work on a deep copy (default) instead of ``model`` itself.

    Returns
    -------
    nn.Module
        In eval mode, gradients off, LoRA merged.
    """
    prepared = copy.deepcopy(model) if copy_model else model
    prepared.eval()
    if lora_modules(prepared):
        merge_lora(prepared)
    if fold_bn:
        fold_batchnorm(prepared)
    for param in prepared.parameters():
        param.requires_grad_(False)
    prepared = prepared.to(device)
    if channels_last:
        prepared = prepared.to(memory_format=torch.channels_last)
    return prepared
