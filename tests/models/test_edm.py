import math

import pytest
import torch
from torch import nn

from prelib.models.edm import (
    EDMConfig,
    EDMPreconditioner,
    edm_coefficients,
    heun_sample,
    loss_weight,
    member_generators,
    sigma_schedule,
)


@pytest.mark.parametrize("sigma", [0.002, 0.5, 1.0, 80.0])
def test_preconditioning_coefficients(sigma):
    c = edm_coefficients(torch.tensor(sigma), 0.5)
    total = sigma**2 + 0.25
    assert float(c["c_skip"]) == pytest.approx(0.25 / total, rel=1e-6)
    assert float(c["c_out"]) == pytest.approx(sigma * 0.5 / math.sqrt(total), rel=1e-6)
    assert float(c["c_in"]) == pytest.approx(1 / math.sqrt(total), rel=1e-6)
    assert float(c["c_noise"]) == pytest.approx(math.log(sigma) / 4, rel=1e-6, abs=1e-7)
    assert float(loss_weight(torch.tensor(sigma), 0.5)) == pytest.approx(
        total / (sigma * 0.5) ** 2, rel=1e-5
    )


def test_at_sigma_data_skip_and_out_balance():
    c = edm_coefficients(torch.tensor(0.5), 0.5)
    assert float(c["c_skip"]) == pytest.approx(0.5)
    assert float(c["c_out"]) == pytest.approx(0.5 / math.sqrt(2))


def test_schedule_endpoints_and_spacing():
    sigmas = sigma_schedule(EDMConfig())
    assert len(sigmas) == 19
    assert float(sigmas[0]) == pytest.approx(80.0)
    assert float(sigmas[17]) == pytest.approx(0.002)
    assert float(sigmas[18]) == 0.0
    assert torch.all(sigmas[1:] < sigmas[:-1])
    # ρ = 7 warps the steps towards small σ: the middle step is far below the arithmetic mean
    assert float(sigmas[9]) < 5.0


class GaussianDenoiser(nn.Module):
    """Optimal denoiser for data ~ N(mu, s²): D(x; σ) = mu + (x − mu) s² / (s² + σ²)."""

    def __init__(self, mu: float, s: float) -> None:
        super().__init__()
        self.mu, self.s = mu, s

    def forward(self, x, sigma, cond):
        return self.mu + (x - self.mu) * self.s**2 / (self.s**2 + sigma**2)


def test_heun_sampler_maps_noise_to_the_data_distribution():
    # with the exact denoiser the probability-flow ODE ends on N(mu, s²); Heun's error shrinks
    # with the step count (18 steps: ~7 % on the std of this narrow Gaussian, 40 steps: ~1 %)
    errors = []
    for n_steps in (18, 40):
        samples = heun_sample(
            GaussianDenoiser(1.0, 0.3),
            torch.zeros(1, 1, 32, 32),
            8,
            seed=0,
            config=EDMConfig(n_steps=n_steps),
        )
        assert samples.shape == (8, 1, 1, 32, 32)
        assert float(samples.mean()) == pytest.approx(1.0, abs=0.02)
        errors.append(abs(float(samples.std()) / 0.3 - 1))
    assert errors[0] < 0.1 and errors[1] < 0.03 and errors[1] < errors[0]


def test_sampling_reproducible_and_seed_dependent():
    net = nn.Conv2d(2, 1, 3, padding=1)
    wrapped = EDMPreconditioner(lambda x, c_noise: net(x))
    cond = torch.rand(2, 1, 8, 8)
    config = EDMConfig(n_steps=4)
    a = heun_sample(wrapped, cond, 3, seed=5, config=config)
    b = heun_sample(wrapped, cond, 3, seed=5, config=config)
    c = heun_sample(wrapped, cond, 3, seed=6, config=config)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a[0], a[1])
    # member m does not depend on the ensemble size
    torch.testing.assert_close(heun_sample(wrapped, cond, 1, seed=5, config=config)[0], a[0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="ensemble size"):
        member_generators(0, 0)
    with pytest.raises(ValueError, match="sigma_min"):
        EDMConfig(sigma_min=1.0, sigma_max=0.5)
