"""Combine PRE-Net's two networks into one precipitation field.

The paper trains two networks of the same architecture: a classifier with two logits
(no rain, rain) and a regressor with one channel in mm h-1 (prenet_reference.md §1, §7.1). The
reference test code sets the regression output to exactly 0 where the classifier's argmax is 0 and
keeps it unchanged elsewhere — unclamped, so it can be negative.

Our default clamps negative regression values to 0 (``clamp_negative=True``): a rain rate cannot
be negative, and since such values fall below ``RAIN_THRESHOLD`` in either case, clamping changes
RMSE/CC slightly but never a categorical score. ``clamp_negative=False`` reproduces the code.
"""

from __future__ import annotations

import torch


def compose_precipitation(
    class_logits: torch.Tensor, regression: torch.Tensor, clamp_negative: bool = True
) -> torch.Tensor:
    """Rain mask × intensity.

    Parameters
    ----------
    class_logits : Tensor, shape (B, 2, H, W)
        Logits of (no rain, rain).
    regression : Tensor, shape (B, 1, H, W)
        Rain rate, mm h-1.
    clamp_negative : bool
        Clamp negative rates to 0 where rain is detected (default; the code does not).

    Returns
    -------
    Tensor, shape (B, 1, H, W)
        ``regression`` where ``argmax(class_logits) == 1``, exactly 0 elsewhere, mm h-1.
    """
    if class_logits.ndim != 4 or class_logits.shape[1] != 2:
        raise ValueError(f"class_logits must be (B, 2, H, W), got {tuple(class_logits.shape)}")
    if regression.ndim != 4 or regression.shape[1] != 1:
        raise ValueError(f"regression must be (B, 1, H, W), got {tuple(regression.shape)}")
    if (
        class_logits.shape[0] != regression.shape[0]
        or class_logits.shape[2:] != regression.shape[2:]
    ):
        raise ValueError(
            f"class_logits {tuple(class_logits.shape)} and regression {tuple(regression.shape)} "
            "differ in batch or spatial size"
        )
    # logit 1 > logit 0 is argmax == 1 (a tie goes to class 0 in both) without the arg-reduction,
    # which costs 2.5 % of a demo tile on CPU.
    rain = class_logits[:, 1:2] > class_logits[:, 0:1]
    value = regression.clamp(min=0.0) if clamp_negative else regression
    return torch.where(rain, value, torch.zeros_like(value))


def _first(output):
    # PRE-Net returns (logits, features, sc_loss); plain networks return the logits.
    return output[0] if isinstance(output, tuple | list) else output


class TwoNetworkRetrieval(torch.nn.Module):
    """``x (B, C, H, W) -> precipitation (B, 1, H, W)`` from a classifier and a regressor.

    Both networks run in eval mode on the same input batch; a network taking ``(x, mask)`` gets
    no mask (all-ones, as in the reference test code). Usable directly as the callable of
    :func:`prelib.inference.tiling.predict_tiled` and of :func:`prelib.inference.engine.infer`.
    """

    def __init__(
        self, classifier: torch.nn.Module, regressor: torch.nn.Module, clamp_negative: bool = True
    ) -> None:
        super().__init__()
        self.classifier = classifier
        self.regressor = regressor
        self.clamp_negative = clamp_negative

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = _first(self.classifier(x))
        rate = _first(self.regressor(x))
        return compose_precipitation(logits.float(), rate.float(), self.clamp_negative)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """Both networks on one batch, before composition: (B, 2, H, W).

        Channel 0 is the rain-logit margin ``logit(rain) − logit(no rain)`` and channel 1 the
        rate in mm h-1. Both are linear in the logits/rate, so blending them across tiles and
        composing afterwards (:meth:`compose_raw`) gives exactly what two separate tiled passes
        of the classifier and the regressor give.
        """
        logits = _first(self.classifier(x)).float()
        rate = _first(self.regressor(x)).float()
        return torch.cat([logits[:, 1:2] - logits[:, 0:1], rate], dim=1)

    def compose_raw(self, raw: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W) from :meth:`raw` (or its blend) → precipitation (B, 1, H, W), mm h-1."""
        margin, rate = raw[:, 0:1], raw[:, 1:2]
        value = rate.clamp(min=0.0) if self.clamp_negative else rate
        return torch.where(margin > 0, value, torch.zeros_like(value))
