"""PrecipDiff: two residual EDM diffusion models that correct, then downscale, satellite rain.

Dai & Ushijima-Mwesigwa, "PrecipDiff: Leveraging image diffusion models to enhance
satellite-based precipitation observations", arXiv 2501.07447 (2025). Both stages are
EDM-preconditioned U-Nets (:mod:`prelib.models.edm`, :mod:`~.diffusion_unet`) trained to
denoise a *residual*:

1. **correction** (coarse grid): ``r_c = T(max-pooled truth) − T(satellite)``, conditioned on
   ``T(satellite)``; corrected = ``T⁻¹(T(satellite) + r_c)``;
2. **downscaling** (fine grid): ``r_d = T(fine truth) − up(T(coarse))``, conditioned on
   ``up(T(coarse))`` (bilinear). Training uses the max-pooled truth as the coarse input
   (teacher forcing) or the corrected product (pipeline-consistent) — our options, the paper does
   not say; at inference the corrected members are downscaled, one fine member per corrected
   member.

``T`` is :class:`~prelib.models.precip_transform.PrecipTransform` (log1p). Residuals are divided
by a scale fitted on the training pairs so their standard deviation is EDM's σ_data (0.5),
the data scale the preconditioning assumes (our choice). The same class with
``kind="regression"`` is CorrDiff's first stage (Mardani et al. 2025): U-Nets regressing the
conditional-mean residual with MSE, a deterministic baseline (every member identical).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from prelib.conventions import RAIN_THRESHOLD
from prelib.data.precip_grids import check_factor, check_precip, upsample_tensor
from prelib.models.diffusion_unet import ConditionalUNet, DiffusionUNetConfig
from prelib.models.edm import EDMConfig, EDMPreconditioner, edm_loss, heun_sample
from prelib.models.precip_transform import PrecipTransform

KINDS: tuple[str, ...] = ("diffusion", "regression")


class DiffusionStage(nn.Module):
    """One residual stage trained with the EDM loss and sampled with Heun's method."""

    def __init__(self, unet: DiffusionUNetConfig, edm: EDMConfig) -> None:
        super().__init__()
        self.edm = edm
        config = unet.replace(in_channels=2, noise_conditioning=True)
        self.denoiser = EDMPreconditioner(ConditionalUNet(config), edm.sigma_data)

    def loss(self, cond, target, generator=None) -> torch.Tensor:
        """EDM loss of normalised residuals ``target`` ``(B, 1, H, W)`` given ``cond``."""
        return edm_loss(self.denoiser, target, cond, self.edm, generator)

    def residual(self, cond: torch.Tensor, n_members: int, seed: int) -> torch.Tensor:
        """Ensemble of normalised residuals ``(member, B, 1, H, W)``."""
        return heun_sample(self.denoiser, cond, n_members, seed, self.edm)


class RegressionStage(nn.Module):
    """One residual stage regressing the conditional mean with MSE (CorrDiff's first stage)."""

    def __init__(self, unet: DiffusionUNetConfig) -> None:
        super().__init__()
        self.net = ConditionalUNet(unet.replace(in_channels=1, noise_conditioning=False))

    def loss(self, cond, target, generator=None) -> torch.Tensor:
        return F.mse_loss(self.net(cond), target)

    @torch.no_grad()
    def residual(self, cond: torch.Tensor, n_members: int, seed: int) -> torch.Tensor:
        if n_members < 1:
            raise ValueError(f"ensemble size must be >= 1, got {n_members}")
        return self.net(cond).unsqueeze(0).expand(n_members, -1, -1, -1, -1)


class PrecipDiff(nn.Module):
    """The two-stage correct-then-downscale model.

    Parameters
    ----------
    factor : int
        Coarse-to-fine resolution factor (10 for 0.1° → 0.01°).
    unet : DiffusionUNetConfig
        U-Net of both stages (``in_channels`` is set by the stage).
    edm : EDMConfig
    kind : {"diffusion", "regression"}
    transform : PrecipTransform
    """

    def __init__(
        self,
        factor: int,
        unet: DiffusionUNetConfig | None = None,
        edm: EDMConfig | None = None,
        kind: str = "diffusion",
        transform: PrecipTransform | None = None,
    ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        self.factor = check_factor(factor)
        self.kind = kind
        self.unet = unet or DiffusionUNetConfig()
        self.edm = edm or EDMConfig()
        self.transform = transform or PrecipTransform()
        if kind == "diffusion":
            self.correction = DiffusionStage(self.unet, self.edm)
            self.downscaling = DiffusionStage(self.unet, self.edm)
        else:
            self.correction = RegressionStage(self.unet)
            self.downscaling = RegressionStage(self.unet)
        # residual scales (correction, downscaling) in transformed units; see fit_scales
        self.register_buffer("residual_scales", torch.ones(2))
        # rates below this are set to 0 in predict (mm h-1); see calibrate_wet_fraction
        self.register_buffer("wet_threshold", torch.zeros(()))

    @property
    def target_std(self) -> float:
        """Standard deviation of the normalised residuals: σ_data for diffusion, 1 otherwise."""
        return self.edm.sigma_data if self.kind == "diffusion" else 1.0

    # ------------------------------------------------------------------ training examples
    def _t(self, precip: np.ndarray | torch.Tensor) -> torch.Tensor:
        return self.transform.forward(precip).unsqueeze(1)

    def correction_example(self, satellite, coarse_truth) -> tuple[torch.Tensor, torch.Tensor]:
        """``(cond, target)``, each ``(B, 1, h, w)``, from satellite and max-pooled truth."""
        cond = self._t(satellite)
        target = (self._t(coarse_truth) - cond) / self.residual_scales[0]
        return cond, target

    def downscaling_example(self, coarse, fine) -> tuple[torch.Tensor, torch.Tensor]:
        """``(cond, target)``, each ``(B, 1, H, W)``, from a coarse field and the fine truth."""
        cond = upsample_tensor(self._t(coarse), self.factor, "bilinear")
        target = (self._t(fine) - cond) / self.residual_scales[1]
        return cond, target

    def fit_scales(self, satellite: np.ndarray, coarse_truth: np.ndarray, fine: np.ndarray) -> None:
        """Set the residual scales so the training residuals have std :attr:`target_std`."""
        scales = []
        for example in (
            self.correction_example(satellite, coarse_truth),
            self.downscaling_example(coarse_truth, fine),
        ):
            scales.append(float(example[1].std()) / self.target_std)
        if min(scales) <= 0:
            raise ValueError("training residuals are all zero; cannot scale them")
        self.residual_scales = torch.tensor(scales) * self.residual_scales

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def correct(self, satellite: np.ndarray, n_members: int = 1, seed: int = 0) -> torch.Tensor:
        """Corrected coarse ensemble ``(member, B, h, w)`` in mm h-1 from ``(B, h, w)``."""
        satellite = check_precip(satellite, "satellite")
        cond = self._t(satellite)
        residual = self.correction.residual(cond, n_members, seed) * self.residual_scales[0]
        return self.transform.inverse(cond.unsqueeze(0) + residual).squeeze(2)

    @torch.no_grad()
    def downscale(self, coarse: np.ndarray | torch.Tensor, n_members: int = 1, seed: int = 0):
        """Fine ensemble ``(member, B, H, W)`` in mm h-1 from a coarse ``(B, h, w)`` field."""
        cond = upsample_tensor(self._t(coarse), self.factor, "bilinear")
        residual = self.downscaling.residual(cond, n_members, seed) * self.residual_scales[1]
        return self.transform.inverse(cond.unsqueeze(0) + residual).squeeze(2)

    @torch.no_grad()
    def predict(
        self, satellite: np.ndarray, n_members: int = 8, seed: int = 0, calibrated: bool = True
    ) -> np.ndarray:
        """Correct then downscale: fine ensemble ``(member, B, H, W)``, mm h-1.

        Member ``m`` downscales corrected member ``m`` with its own seed, so any member is
        reproducible on its own. With ``calibrated`` (default), rates below
        :attr:`wet_threshold` are set to 0 (see :meth:`calibrate_wet_fraction`).
        """
        if n_members < 1:
            raise ValueError(f"ensemble size must be >= 1, got {n_members}")
        corrected = self.correct(satellite, n_members, seed)
        members = [
            self.downscale(corrected[m], 1, seed=seed * 7919 + 104729 + m)[0]
            for m in range(n_members)
        ]
        out = torch.stack(members).numpy()
        threshold = float(self.wet_threshold)
        if calibrated and threshold > 0:
            out = np.where(out < threshold, np.float32(0.0), out)
        return out

    @torch.no_grad()
    def calibrate_wet_fraction(
        self,
        satellite: np.ndarray,
        fine: np.ndarray,
        n_members: int = 4,
        seed: int = 0,
        rain_threshold: float = RAIN_THRESHOLD,
    ) -> float:
        """Fit the zero threshold on validation pairs so the wet fraction matches the truth's.

        Diffusion members spread small positive residuals over dry pixels ("false drizzle").
        The threshold ``t`` is the ``1 − w`` quantile of the uncalibrated member rates, with
        ``w`` the fraction of truth pixels ``>= rain_threshold``; rates below ``t`` become 0,
        so the members' wet fraction equals ``w`` on the validation pairs. When the members
        are not too wet (``t <= rain_threshold``) the threshold stays 0.

        Parameters
        ----------
        satellite : np.ndarray, shape ``(B, h, w)``
            Validation products, mm h-1.
        fine : np.ndarray, shape ``(B, H, W)``
            Validation truth, mm h-1.

        Returns
        -------
        float
            The fitted threshold, mm h-1 (also stored in :attr:`wet_threshold`).
        """
        fine = check_precip(fine, "validation truth")
        members = self.predict(satellite, n_members, seed, calibrated=False)
        if members.shape[1:] != fine.shape:
            raise ValueError(f"validation truth {fine.shape} != predictions {members.shape[1:]}")
        wet_fraction = float((fine >= rain_threshold).mean())
        threshold = float(np.quantile(members, 1.0 - wet_fraction)) if wet_fraction < 1 else 0.0
        threshold = threshold if threshold > rain_threshold else 0.0
        self.wet_threshold = torch.tensor(threshold)
        return threshold
