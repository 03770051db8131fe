"""EDM diffusion core: preconditioning, training loss and the Heun sampler (Karras et al. 2022).

Written from the equations of "Elucidating the Design Space of Diffusion-Based Generative
Models" (Karras, Aittala, Aila & Laine, NeurIPS 2022; Table 1 and Algorithm 1), not from the
CC BY-NC-SA reference code:

* preconditioning ``D(x; σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x; c_noise(σ))`` with
  ``c_skip = σ_d² / (σ² + σ_d²)``, ``c_out = σ σ_d / √(σ² + σ_d²)``, ``c_in = 1 / √(σ² + σ_d²)``,
  ``c_noise = ¼ ln σ``;
* training: ``ln σ ~ N(P_mean, P_std²)``, loss weight ``λ(σ) = (σ² + σ_d²) / (σ σ_d)²``,
  loss ``λ(σ) ‖D(y + σ n; σ) − y‖²``;
* sampling: the time steps ``σ_i = (σ_max^{1/ρ} + i/(N−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ``,
  ``σ_N = 0``, and Heun's second-order method with the Euler step at the last interval
  (``S_churn = 0``: deterministic given the initial noise, 2N − 1 network evaluations).

Constants are the paper's defaults (σ_data 0.5, P_mean −1.2, P_std 1.2, σ ∈ [0.002, 80], ρ 7,
18 steps); CorrDiff's preset (P_mean 0, σ_max 800) is :data:`CORRDIFF_PRESET`. Conditioning
(the low-resolution field) is concatenated to ``c_in x`` as in CorrDiff's super-resolution
preconditioner (Mardani et al. 2025).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from prelib.config import Config, require_positive


@dataclasses.dataclass(frozen=True)
class EDMConfig(Config):
    """EDM constants (Karras et al. 2022 defaults)."""

    sigma_data: float = 0.5
    p_mean: float = -1.2
    p_std: float = 1.2
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    n_steps: int = 18

    def validate(self) -> None:
        require_positive(self, "sigma_data", "p_std", "sigma_min", "sigma_max", "rho", "n_steps")
        if self.sigma_min >= self.sigma_max:
            raise ValueError(
                f"EDMConfig.sigma_min ({self.sigma_min}) must be below sigma_max ({self.sigma_max})"
            )


CORRDIFF_PRESET: dict[str, float] = {"p_mean": 0.0, "p_std": 1.2, "sigma_max": 800.0}
"""CorrDiff's residual-diffusion overrides of the EDM constants (physicsnemo)."""


def edm_coefficients(sigma: torch.Tensor, sigma_data: float = 0.5) -> dict[str, torch.Tensor]:
    """Preconditioning coefficients at noise level(s) ``sigma``.

    Returns
    -------
    dict with ``c_skip``, ``c_out``, ``c_in``, ``c_noise`` (tensors shaped like ``sigma``)
    """
    sigma = torch.as_tensor(sigma, dtype=torch.float32)
    total = sigma**2 + sigma_data**2
    return {
        "c_skip": sigma_data**2 / total,
        "c_out": sigma * sigma_data / total.sqrt(),
        "c_in": 1.0 / total.sqrt(),
        "c_noise": sigma.log() / 4.0,
    }


def loss_weight(sigma: torch.Tensor, sigma_data: float = 0.5) -> torch.Tensor:
    """EDM loss weight ``λ(σ) = (σ² + σ_d²) / (σ σ_d)²``."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def sigma_schedule(config: EDMConfig | None = None) -> torch.Tensor:
    """The ``n_steps + 1`` sampling noise levels, ``σ_max`` … ``σ_min``, then 0 (float64)."""
    cfg = config or EDMConfig()
    steps = torch.arange(cfg.n_steps, dtype=torch.float64)
    ramp = steps / max(cfg.n_steps - 1, 1)
    inv_rho = 1.0 / cfg.rho
    sigmas = (
        cfg.sigma_max**inv_rho + ramp * (cfg.sigma_min**inv_rho - cfg.sigma_max**inv_rho)
    ) ** cfg.rho
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)])


class EDMPreconditioner(nn.Module):
    """Wrap a raw network ``F(x_in, c_noise)`` into the denoiser ``D(x; σ, cond)``.

    Parameters
    ----------
    net : nn.Module
        Called as ``net(torch.cat([c_in·x, cond], 1), c_noise)`` and returning a tensor shaped
        like ``x``.
    sigma_data : float
    """

    def __init__(self, net: nn.Module, sigma_data: float = 0.5) -> None:
        super().__init__()
        self.net = net
        self.sigma_data = sigma_data

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Denoise.

        Parameters
        ----------
        x : Tensor ``(B, C, H, W)``
            Noisy sample.
        sigma : Tensor ``(B,)`` or scalar
            Noise standard deviation per sample.
        cond : Tensor ``(B, C_cond, H, W)``
            Conditioning fields on the same grid.
        """
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        sigma = sigma.expand(x.shape[0], 1, 1, 1)
        c = edm_coefficients(sigma, self.sigma_data)
        raw = self.net(torch.cat([c["c_in"] * x, cond], dim=1), c["c_noise"].flatten())
        return c["c_skip"] * x + c["c_out"] * raw


def edm_loss(
    denoiser: EDMPreconditioner,
    clean: torch.Tensor,
    cond: torch.Tensor,
    config: EDMConfig | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """EDM denoising loss on a batch (scalar, mean over batch and pixels).

    Parameters
    ----------
    denoiser : EDMPreconditioner
    clean : Tensor ``(B, C, H, W)``
        Clean targets (normalised residuals, std ≈ σ_data).
    cond : Tensor ``(B, C_cond, H, W)``
    config : EDMConfig
    generator : torch.Generator, optional
        Source of σ and noise (reproducible tests).
    """
    cfg = config or EDMConfig()
    batch = clean.shape[0]
    log_sigma = cfg.p_mean + cfg.p_std * torch.randn(
        batch, generator=generator, device=clean.device
    )
    sigma = log_sigma.exp().reshape(-1, 1, 1, 1)
    noise = torch.randn(clean.shape, generator=generator, device=clean.device) * sigma
    denoised = denoiser(clean + noise, sigma.flatten(), cond)
    weight = loss_weight(sigma, cfg.sigma_data)
    return (weight * (denoised - clean) ** 2).mean()


def member_generators(seed: int, n_members: int, device: str | torch.device = "cpu"):
    """One ``torch.Generator`` per ensemble member, member ``m`` seeded ``seed · 100003 + m``.

    Member ``m`` of an ensemble is therefore the same whatever the ensemble size.
    """
    if n_members < 1:
        raise ValueError(f"ensemble size must be >= 1, got {n_members}")
    generators = []
    for member in range(n_members):
        generator = torch.Generator(device=device)
        generator.manual_seed(int(seed) * 100003 + member)
        generators.append(generator)
    return generators


@torch.no_grad()
def heun_sample(
    denoiser: EDMPreconditioner,
    cond: torch.Tensor,
    n_members: int,
    seed: int = 0,
    config: EDMConfig | None = None,
    out_channels: int = 1,
) -> torch.Tensor:
    """Draw an ensemble with Heun's 2nd-order EDM sampler (Karras et al. 2022, Algorithm 1).

    Parameters
    ----------
    denoiser : EDMPreconditioner
    cond : Tensor ``(B, C_cond, H, W)``
        Conditioning for ``B`` fields.
    n_members : int
        Ensemble size (≥ 1).
    seed : int
        Base seed; see :func:`member_generators`.
    config : EDMConfig
    out_channels : int
        Channels of the generated field.

    Returns
    -------
    Tensor ``(n_members, B, out_channels, H, W)``
    """
    cfg = config or EDMConfig()
    generators = member_generators(seed, n_members, cond.device)
    batch, _, height, width = cond.shape
    sigmas = sigma_schedule(cfg).to(cond.device)
    noise = torch.stack(
        [
            torch.randn((batch, out_channels, height, width), generator=g, device=cond.device)
            for g in generators
        ]
    )
    # members ride along the batch axis: one network call per step for the whole ensemble
    x = (noise * sigmas[0]).reshape(n_members * batch, out_channels, height, width).float()
    cond_all = cond.repeat(n_members, 1, 1, 1)
    for i in range(cfg.n_steps):
        sigma_now, sigma_next = float(sigmas[i]), float(sigmas[i + 1])
        slope = (x - denoiser(x, torch.tensor(sigma_now), cond_all)) / sigma_now
        x_next = x + (sigma_next - sigma_now) * slope
        if sigma_next > 0:
            slope_next = (
                x_next - denoiser(x_next, torch.tensor(sigma_next), cond_all)
            ) / sigma_next
            x_next = x + (sigma_next - sigma_now) * 0.5 * (slope + slope_next)
        x = x_next
    return x.reshape(n_members, batch, out_channels, height, width)
