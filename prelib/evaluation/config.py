"""Settings of the paper-table experiments (``prelib/profiles/evaluation.yaml``).

The sizes of the data and of the networks come from the ``data``, ``models`` and ``training``
profiles; this section only says *which* rows are run, on how many test samples, and how strong
the input noise of Table 7 is (the paper does not state its σ).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prelib.config import Config, load_config, require_choice, require_positive

MODALITY_NAMES: tuple[str, ...] = ("ir", "pmw", "pr")
ADAPT_VARIANTS: tuple[str, ...] = (
    "scratch",
    "kd_nonmask",
    "comwe_noadapt",
    "nonmask",
    "randmask",
    "selfmask",
)
"""Stage-II variants (the same names as ``prelib.training.stages.ADAPT_VARIANTS``; repeated
here so that reading the configuration does not import torch)."""


def parse_modalities(subset: str) -> tuple[str, ...]:
    """``"ir+pmw"`` → ``("ir", "pmw")`` in canonical order; unknown names raise ``ValueError``."""
    names = tuple(part.strip() for part in subset.split("+") if part.strip())
    unknown = sorted(set(names) - set(MODALITY_NAMES))
    if not names or unknown:
        raise ValueError(
            f"a modality subset is '+'-joined names from {list(MODALITY_NAMES)}, got {subset!r}"
        )
    return tuple(m for m in MODALITY_NAMES if m in names)


@dataclasses.dataclass(frozen=True)
class EvaluationConfig(Config):
    """What the table experiments run.

    Attributes
    ----------
    teacher_subsets : tuple of str
        Table 8 rows: modality subsets of the teacher, ``"+"``-joined (``"ir+pmw+pr"`` = all).
    threshold : float
        Rain / no-rain threshold of POD, FAR, CSI, CSI-4, CSI-8 in mm h-1 (paper: 0.1).
    additive_noise_k : float
        Table 7: σ of the additive Gaussian noise on every IR channel, in K.
    multiplicative_noise : float
        Table 7: σ of the multiplicative noise ``Tb · (1 + σ ε)``, relative (0.005 = 0.5 %).
    n_test : int
        Test samples scored per benchmark; 0 = the data profile's test split.
    n_train, n_val : int
        Training / validation samples; 0 = the data profile's split sizes.
    batch_size : int
        Batch size of prediction.
    baseline_max_pixels : int
        Training pixels used by the gradient-boosting baseline.
    prenet_variant : str
        The Stage-II variant that is "PRE-Net" in Tables 5 and 7 (paper: ``selfmask``).
    """

    teacher_subsets: tuple[str, ...] = ("ir", "pmw", "pr", "ir+pmw+pr")
    threshold: float = 0.1
    additive_noise_k: float = 1.0
    multiplicative_noise: float = 0.005
    n_test: int = 0
    n_train: int = 0
    n_val: int = 0
    batch_size: int = 8
    baseline_max_pixels: int = 200_000
    prenet_variant: str = "selfmask"

    def __post_init__(self) -> None:
        if isinstance(self.teacher_subsets, list):
            object.__setattr__(self, "teacher_subsets", tuple(self.teacher_subsets))
        super().__post_init__()

    def validate(self) -> None:
        if not self.teacher_subsets:
            raise ValueError("EvaluationConfig.teacher_subsets must name at least one subset")
        for subset in self.teacher_subsets:
            try:
                parse_modalities(subset)
            except ValueError as err:
                raise ValueError(f"EvaluationConfig.teacher_subsets: {err}") from None
        require_positive(self, "threshold", "batch_size", "baseline_max_pixels")
        require_choice(self, "prenet_variant", ADAPT_VARIANTS)
        require_positive(self, "additive_noise_k", "multiplicative_noise", allow_zero=True)
        for name in ("n_test", "n_train", "n_val"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"EvaluationConfig.{name} must be an integer >= 0, got {value!r}")


def load_evaluation_config(profile: str, **overrides: Any) -> EvaluationConfig:
    """The ``evaluation`` settings of ``profile`` with field ``overrides`` (``None`` ignored)."""
    return load_config("evaluation", profile, EvaluationConfig, **overrides)
