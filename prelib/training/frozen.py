"""Keep frozen modules frozen: evaluation mode for every module whose parameters are all frozen.

``requires_grad_(False)`` stops the optimiser from moving a module's weights but not its
BatchNorm running statistics, which ``model.train()`` keeps updating from every batch (and
Dropout keeps dropping). In Full-Disc Adaptation (Stage II) the "frozen" conv encoder of
PRE-Net would then re-estimate its BatchNorm statistics on full-disc features whose cells are
partly zeroed by the mask, changing the frozen network. :func:`eval_frozen_modules` puts every
such module in evaluation mode after ``model.train()``, so its parameters *and* buffers stay
bit-identical; ``adabn=True`` instead lets the frozen BatchNorm layers re-estimate their
statistics on the target domain (AdaBN, Li et al. 2016) while their affine weights stay fixed.
"""

from __future__ import annotations

from torch import nn

_BATCHNORM = (nn.modules.batchnorm._BatchNorm,)


def frozen_modules(model: nn.Module) -> list[nn.Module]:
    """Outermost sub-modules of ``model`` that own parameters, none of them trainable."""
    found: list[nn.Module] = []
    covered: set[int] = set()
    for module in model.modules():
        if id(module) in covered:
            continue
        params = list(module.parameters())
        if params and not any(p.requires_grad for p in params):
            found.append(module)
            covered.update(id(m) for m in module.modules())
    return found


def eval_frozen_modules(model: nn.Module, adabn: bool = False) -> int:
    """Put every frozen sub-module of ``model`` in evaluation mode (call after ``train()``).

    Parameters
    ----------
    model : nn.Module
        In training mode.
    adabn : bool
        Keep the frozen BatchNorm layers in training mode, so that their running statistics
        adapt to the new data (AdaBN); everything else frozen is still in evaluation mode.

    Returns
    -------
    int
        Number of modules switched to evaluation mode.
    """
    count = 0
    for module in frozen_modules(model):
        for sub in module.modules():
            if adabn and isinstance(sub, _BATCHNORM):
                continue
            if sub.training:
                sub.training = False
                count += 1
    return count
