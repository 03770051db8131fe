"""Configuration dataclasses of the models and distillers, loaded from ``profiles/models.yaml``.

``prelib/profiles/models.yaml`` maps each profile (``tiny``, ``demo``, ``paper``) to one section
per configuration: ``teacher``, ``prenet``, ``unet``, ``lora`` and ``distill``. The dataclass
defaults are the paper's values, so ``paper`` reproduces the published parameter counts
(prenet_reference.md §3, §4.7); ``demo`` and ``tiny`` shrink widths and the AE so that CPU training
is practical.

>>> cfg = load_model_config("prenet", "tiny", n_classes=2)   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from prelib.config import (
    Config,
    profile_section,
    require_choice,
    require_in_range,
    require_positive,
)
from prelib.conventions import MODALITIES, N_GEO, N_IR, N_PMW, N_PR

C = TypeVar("C", bound=Config)

MODEL_SECTION = "models"
"""Name of the profile file (``prelib/profiles/models.yaml``)."""


def _tuple_fields(cfg: Config, *names: str) -> None:
    # YAML gives lists; frozen dataclasses hold tuples so that configs stay hashable.
    for name in names:
        value = getattr(cfg, name)
        if isinstance(value, list):
            object.__setattr__(cfg, name, tuple(value))


def _require_int(cfg: Config, *names: str, minimum: int = 1) -> None:
    for name in names:
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ValueError(
                f"{type(cfg).__name__}.{name} must be an integer >= {minimum}, got {value!r}"
            )


def _require_classes(cfg: Config) -> None:
    if cfg.n_classes not in (1, 2):
        raise ValueError(
            f"{type(cfg).__name__}.n_classes must be 1 (regression) or 2 (rain/no-rain logits), "
            f"got {cfg.n_classes!r}"
        )


@dataclasses.dataclass(frozen=True)
class TeacherConfig(Config):
    """Multimodal teacher U-Net (prenet_reference.md §3).

    Attributes
    ----------
    n_classes : int
        1 = regression (mm h-1), 2 = rain/no-rain logits.
    base_width : int
        Width of the first level; the encoder doubles it four times (paper: 64 → 1024).
    modalities : tuple of str
        Non-empty subset of ``("ir", "pmw", "pr")`` (Table 8 ablation; paper: all three).
    ir_channels, pmw_channels, pr_channels, geo_channels : int
        Input channels per modality (8 AGRI, 13 GMI, 176 DPR bins) and geo planes (elevation,
        lat, lon); ``geo_channels = 0`` drops the late geo fusion.
    """

    n_classes: int = 1
    base_width: int = 64
    modalities: tuple[str, ...] = MODALITIES
    ir_channels: int = N_IR
    pmw_channels: int = N_PMW
    pr_channels: int = N_PR
    geo_channels: int = N_GEO

    def validate(self) -> None:
        _tuple_fields(self, "modalities")
        _require_classes(self)
        _require_int(self, "base_width", "ir_channels", "pmw_channels", "pr_channels")
        _require_int(self, "geo_channels", minimum=0)
        if self.base_width % 2:
            raise ValueError(f"TeacherConfig.base_width must be even, got {self.base_width}")
        mods = self.modalities
        if not mods or len(set(mods)) != len(mods) or not set(mods) <= set(MODALITIES):
            raise ValueError(
                f"TeacherConfig.modalities must be a non-empty subset of {list(MODALITIES)} "
                f"without repeats, got {list(mods)}"
            )

    def channels(self, modality: str) -> int:
        """Input channels of ``modality`` (``ir``, ``pmw``, ``pr`` or ``geo``)."""
        return getattr(self, f"{modality}_channels")


@dataclasses.dataclass(frozen=True)
class UNetConfig(Config):
    """Plain IR-only U-Net student / from-scratch baseline (Table 3 row 1, Table 4 row 1)."""

    n_classes: int = 1
    in_channels: int = N_IR
    base_width: int = 64
    upsample: str = "transpose"

    def validate(self) -> None:
        from prelib.models.blocks import UPSAMPLE_MODES

        _require_classes(self)
        _require_int(self, "in_channels", "base_width")
        require_choice(self, "upsample", UPSAMPLE_MODES)
        if self.base_width % 2:
            raise ValueError(f"UNetConfig.base_width must be even, got {self.base_width}")


@dataclasses.dataclass(frozen=True)
class PRENetConfig(Config):
    """IR-only PRE-Net student (prenet_reference.md §4).

    Attributes
    ----------
    n_classes, in_channels, base_width
        As for :class:`UNetConfig`.
    mask_ratio : float
        α, the fraction of base cells masked when the model draws its own mask in training (0.25).
    n_splits : int
        RMKD views n at the levels in ``rmkd_levels`` (3); 1 disables RMKD (MKD, Stage II).
    rmkd_levels : tuple of int
        CoMWE levels (1-based) that split masks (reference code: (1, 2); the paper implies all).
    dawe_mode : str
        ``"prelib"`` (DAWE trained and used at inference), ``"reference"`` (the code: detached,
        training only, levels 1–2) or ``"off"``.
    ae_dim, ae_depth, ae_heads, ae_patch, ae_mlp_ratio
        The masked ViT of each level (paper: 192, 12, 3, 2, 4).
    pos_ramp : int
        Size of the fixed positional ramp (28).
    bottleneck_ratio : int
        Width reduction in the masked conv's bottleneck (4).
    upsample : {"transpose", "resize_conv"}
        Decoder up-sampling (:data:`prelib.models.blocks.UPSAMPLE_MODES`): the paper's
        ConvTranspose2d (default) or resize-convolution, which avoids checkerboard texture.
    """

    n_classes: int = 1
    in_channels: int = N_IR
    base_width: int = 64
    mask_ratio: float = 0.25
    n_splits: int = 3
    rmkd_levels: tuple[int, ...] = (1, 2)
    dawe_mode: str = "prelib"
    ae_dim: int = 192
    ae_depth: int = 12
    ae_heads: int = 3
    ae_patch: int = 2
    ae_mlp_ratio: float = 4.0
    pos_ramp: int = 28
    bottleneck_ratio: int = 4
    upsample: str = "transpose"

    def validate(self) -> None:
        from prelib.models.blocks import UPSAMPLE_MODES
        from prelib.models.dawe import DAWE_MODES

        require_choice(self, "upsample", UPSAMPLE_MODES)
        _tuple_fields(self, "rmkd_levels")
        _require_classes(self)
        _require_int(self, "in_channels", "base_width", "n_splits", "ae_dim", "ae_depth")
        _require_int(self, "ae_heads", "pos_ramp", "bottleneck_ratio")
        require_in_range(self, "mask_ratio", 0.0, 0.99)
        require_positive(self, "ae_mlp_ratio")
        require_choice(self, "dawe_mode", DAWE_MODES)
        if self.ae_patch != 2:
            # The token grid of level i must be the base mask expanded by 2^(3-i); patch 2 makes
            # the deepest token grid exactly the base grid (one token per 16 × 16 input pixels).
            raise ValueError(f"PRENetConfig.ae_patch must be 2, got {self.ae_patch}")
        if self.ae_dim % self.ae_heads:
            raise ValueError(
                f"PRENetConfig.ae_dim ({self.ae_dim}) must be divisible by ae_heads "
                f"({self.ae_heads})"
            )
        if self.base_width % 2:
            raise ValueError(f"PRENetConfig.base_width must be even, got {self.base_width}")
        if not set(self.rmkd_levels) <= {1, 2, 3}:
            raise ValueError(
                f"PRENetConfig.rmkd_levels must be a subset of (1, 2, 3), got {self.rmkd_levels}"
            )


@dataclasses.dataclass(frozen=True)
class PRENetLightConfig(Config):
    """PRE-Net-Light, the distilled CPU student (:mod:`prelib.models.prenet_light`).

    Attributes
    ----------
    n_classes, in_channels : int
        As for :class:`UNetConfig`.
    base_width : int
        Width of the stem; the levels double it three times.
    context_dim, context_depth, context_heads : int
        Transformer block(s) over the bottleneck's token grid (depth 0 removes them).
    pos_ramp : int
        Size of PRE-Net's fixed positional ramp.
    """

    n_classes: int = 1
    in_channels: int = N_IR
    base_width: int = 16
    context_dim: int = 64
    context_depth: int = 1
    context_heads: int = 2
    pos_ramp: int = 28

    def validate(self) -> None:
        _require_classes(self)
        _require_int(self, "in_channels", "base_width", "context_dim", "context_heads", "pos_ramp")
        _require_int(self, "context_depth", minimum=0)
        if self.context_dim % self.context_heads:
            raise ValueError(
                f"PRENetLightConfig.context_dim ({self.context_dim}) must be divisible by "
                f"context_heads ({self.context_heads})"
            )


LIGHT_WEIGHTINGS: tuple[str, ...] = ("fixed", "gradnorm")
"""Loss weightings of PRE-Net-Light's distillation (see :class:`LightDistillConfig`)."""


@dataclasses.dataclass(frozen=True)
class LightDistillConfig(Config):
    """Loss of PRE-Net-Light's distillation from the adapted PRE-Net
    (:mod:`prelib.models.light_distill`): task + response + feature terms.

    Attributes
    ----------
    weighting : str
        ``"fixed"``: ``response_weight`` and ``feature_weight`` multiply their terms.
        ``"gradnorm"``: each term is rescaled so that its gradient norm on the student's encoder
        is ``<term>_weight`` × the task loss's, re-measured every ``gradnorm_every`` steps
        (:class:`~prelib.training.loss_balance.LossBalancer`).
    response_weight, feature_weight : float
        Weight (fixed) or target gradient-norm ratio (gradnorm) of the response term (softened
        KL of the classifier, MSE of the regressor's rates) and of the feature term; 0 drops a
        term.
    level_weights : tuple of 3 float
        Multipliers of the feature term at strides 2, 4, 8 (PRE-Net's 1, 2, 4).
    temperature : float
        Softmax temperature T of the classifier's response KL.
    gradnorm_every : int
        Steps between two gradient-norm measurements (``gradnorm`` needs ≥ 1; ``0`` never
        measures under ``fixed``).
    match_rain_fraction : bool
        At every validation, set the classifier student's rain-logit offset so that it calls
        rain on as many validation pixels as its teacher (teacher outputs only, no labels).
    """

    weighting: str = "fixed"
    response_weight: float = 1.0
    feature_weight: float = 1.0
    level_weights: tuple[float, ...] = (1.0, 2.0, 4.0)
    temperature: float = 3.0
    gradnorm_every: int = 10
    match_rain_fraction: bool = False

    def validate(self) -> None:
        _tuple_fields(self, "level_weights")
        require_choice(self, "weighting", LIGHT_WEIGHTINGS)
        if not isinstance(self.match_rain_fraction, bool):
            raise ValueError(
                "LightDistillConfig.match_rain_fraction must be true or false, "
                f"got {self.match_rain_fraction!r}"
            )
        require_positive(self, "response_weight", allow_zero=True)
        require_positive(self, "feature_weight", allow_zero=True)
        require_positive(self, "temperature")
        if not isinstance(self.gradnorm_every, int) or self.gradnorm_every < 0:
            raise ValueError(
                "LightDistillConfig.gradnorm_every must be an integer >= 0, "
                f"got {self.gradnorm_every!r}"
            )
        if self.weighting == "gradnorm" and self.gradnorm_every < 1:
            raise ValueError("LightDistillConfig: weighting='gradnorm' needs gradnorm_every >= 1")
        if len(self.level_weights) != 3 or any(w < 0 for w in self.level_weights):
            raise ValueError(
                "LightDistillConfig.level_weights must be 3 non-negative numbers, "
                f"got {self.level_weights}"
            )


@dataclasses.dataclass(frozen=True)
class LoRAConfig(Config):
    """LoRA adapters on the AE's linear layers for Full-Disc Adaptation (prenet_reference §6.2).

    Attributes
    ----------
    rank, alpha : int, float
        Rank r and scale numerator; ΔW = (α / r) · B A (reference: r = 1, α = 1).
    targets : tuple of str
        Names of the adapted ``nn.Linear`` modules inside the ViT blocks.
    freeze : str
        ``"paper"`` (conv encoder, DAWE and AE base weights frozen; adapters, decoder and head
        train) or ``"code"`` (only the AE base weights frozen).
    """

    rank: int = 1
    alpha: float = 1.0
    targets: tuple[str, ...] = ("qkv", "proj", "fc1", "fc2")
    freeze: str = "paper"

    def validate(self) -> None:
        _tuple_fields(self, "targets")
        _require_int(self, "rank")
        require_positive(self, "alpha")
        require_choice(self, "freeze", ("paper", "code"))
        if not self.targets:
            raise ValueError("LoRAConfig.targets must name at least one linear layer")


WEIGHTINGS: tuple[str, ...] = ("paper", "code", "gradnorm")
"""Loss weightings of Stage I (see :class:`DistillConfig`)."""


@dataclasses.dataclass(frozen=True)
class DistillConfig(Config):
    """Loss settings shared by the distillers (prenet_reference.md §5.1, §8 #1–3).

    Attributes
    ----------
    weighting : str
        ``"paper"``: λ = 0.2 on the feature KL and γ = 50 on the reconstruction MSE (Eq. 6 and
        §4.1 of the paper). ``"code"``: the reference code's reversed assignment (50 on the KL,
        0.2 on the MSE). ``"gradnorm"``: λ = γ = 1, then every term rescaled so that its
        gradient norm on the shared encoder is ``gradnorm_fraction`` × the task loss's,
        re-measured every ``gradnorm_every`` steps (:mod:`prelib.training.loss_balance`).
    kl_weight, rec_weight : float or None
        Explicit λ and γ; ``None`` takes them from ``weighting``.
    level_weights : tuple of float
        Per-level multipliers of the KL term (reference code: 1, 2, 4).
    temperature : float
        Softmax temperature T of the channel KL and of response KD (reference code: 3).
    sc_weight : float
        Weight of RMKD's self-consistency loss (reference code: 1).
    mgd_mask_ratio : float
        Fraction of student feature pixels MGD hides (0.75, MGD's segmentation setting).
    gradnorm_fraction : float
        Target ‖∇ term‖ / ‖∇ task‖ on the shared encoder under ``weighting="gradnorm"``.
    gradnorm_every : int
        Steps between two gradient-norm measurements (logged under every weighting; ``0``
        never measures, not allowed with ``gradnorm``).
    standardise_teacher : bool
        Standardise each teacher feature channel (zero mean, unit variance over batch and
        space) before the KL and reconstruction terms of MKD / RMKD / CoMWE, so that the terms'
        size does not follow the teacher's activation scale.
    """

    weighting: str = "paper"
    kl_weight: float | None = None
    rec_weight: float | None = None
    level_weights: tuple[float, ...] = (1.0, 2.0, 4.0)
    temperature: float = 3.0
    sc_weight: float = 1.0
    mgd_mask_ratio: float = 0.75
    gradnorm_fraction: float = 0.1
    gradnorm_every: int = 10
    standardise_teacher: bool = False

    def validate(self) -> None:
        _tuple_fields(self, "level_weights")
        require_choice(self, "weighting", WEIGHTINGS)
        require_positive(self, "gradnorm_fraction")
        if not isinstance(self.gradnorm_every, int) or self.gradnorm_every < 0:
            raise ValueError(
                f"DistillConfig.gradnorm_every must be an integer >= 0, got {self.gradnorm_every!r}"
            )
        if self.weighting == "gradnorm" and self.gradnorm_every < 1:
            raise ValueError("DistillConfig: weighting='gradnorm' needs gradnorm_every >= 1")
        require_positive(self, "temperature")
        require_positive(self, "sc_weight", allow_zero=True)
        require_in_range(self, "mgd_mask_ratio", 0.0, 0.99)
        for name in ("kl_weight", "rec_weight"):
            if getattr(self, name) is not None:
                require_positive(self, name, allow_zero=True)
        if len(self.level_weights) != 3 or any(w < 0 for w in self.level_weights):
            raise ValueError(
                f"DistillConfig.level_weights must be 3 non-negative numbers, "
                f"got {self.level_weights}"
            )

    @property
    def feature_weight(self) -> float:
        """λ, the weight of the channel-softmax KL term."""
        if self.kl_weight is not None:
            return float(self.kl_weight)
        return {"paper": 0.2, "code": 50.0, "gradnorm": 1.0}[self.weighting]

    @property
    def reconstruction_weight(self) -> float:
        """γ, the weight of the reconstruction MSE term."""
        if self.rec_weight is not None:
            return float(self.rec_weight)
        return {"paper": 50.0, "code": 0.2, "gradnorm": 1.0}[self.weighting]


CONFIG_CLASSES: dict[str, type[Config]] = {
    "teacher": TeacherConfig,
    "prenet": PRENetConfig,
    "prenet_light": PRENetLightConfig,
    "light_distill": LightDistillConfig,
    "unet": UNetConfig,
    "lora": LoRAConfig,
    "distill": DistillConfig,
}


@dataclasses.dataclass(frozen=True)
class ModelConfigs(Config):
    """Every model section of one profile: what the builders of :mod:`prelib.models` take.

    Attributes
    ----------
    teacher, prenet, prenet_light, light_distill, unet, lora, distill
        The :class:`TeacherConfig`, :class:`PRENetConfig`, :class:`PRENetLightConfig`,
        :class:`LightDistillConfig`, :class:`UNetConfig`, :class:`LoRAConfig` and
        :class:`DistillConfig` of the profile (mappings are converted).
    """

    teacher: TeacherConfig = dataclasses.field(default_factory=TeacherConfig)
    prenet: PRENetConfig = dataclasses.field(default_factory=PRENetConfig)
    prenet_light: PRENetLightConfig = dataclasses.field(default_factory=PRENetLightConfig)
    light_distill: LightDistillConfig = dataclasses.field(default_factory=LightDistillConfig)
    unet: UNetConfig = dataclasses.field(default_factory=UNetConfig)
    lora: LoRAConfig = dataclasses.field(default_factory=LoRAConfig)
    distill: DistillConfig = dataclasses.field(default_factory=DistillConfig)

    def __post_init__(self) -> None:
        # A checkpoint's stored run configuration gives the sections as plain mappings.
        for name, cls in CONFIG_CLASSES.items():
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, cls.from_dict(value))
        super().__post_init__()

    def validate(self) -> None:
        for name, cls in CONFIG_CLASSES.items():
            if not isinstance(getattr(self, name), cls):
                raise ValueError(
                    f"ModelConfigs.{name} must be a {cls.__name__}, "
                    f"got {type(getattr(self, name)).__name__}"
                )

    def section(self, name: str) -> Config:
        """The section ``name`` (``"teacher"``, ``"prenet"``, ``"unet"``, ``"lora"``,
        ``"distill"``); unknown names raise ``ValueError``."""
        if name not in CONFIG_CLASSES:
            raise ValueError(f"unknown model config {name!r}; choose one of {list(CONFIG_CLASSES)}")
        return getattr(self, name)


def load_model_configs(
    profile: str, overrides: dict[str, dict[str, Any]] | None = None
) -> ModelConfigs:
    """All model sections of ``profile``; ``overrides`` maps a section name to field values."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(CONFIG_CLASSES))
    if unknown:
        raise ValueError(f"unknown model section(s) {unknown}; choose from {list(CONFIG_CLASSES)}")
    return ModelConfigs(
        **{
            name: load_model_config(name, profile, **overrides.get(name, {}))
            for name in CONFIG_CLASSES
        }
    )


def load_model_config(name: str, profile: str = "demo", **overrides: Any) -> Config:
    """Load section ``name`` of ``prelib/profiles/models.yaml`` at ``profile``.

    Parameters
    ----------
    name : str
        ``"teacher"``, ``"prenet"``, ``"unet"``, ``"lora"`` or ``"distill"``.
    profile : str
        ``"tiny"``, ``"demo"`` or ``"paper"``.
    **overrides
        Field values replacing the profile's; ``None`` values are ignored.

    Raises
    ------
    ValueError
        Unknown section, profile or field, or an invalid value (naming the field).
    """
    if name not in CONFIG_CLASSES:
        raise ValueError(f"unknown model config {name!r}; choose one of {list(CONFIG_CLASSES)}")
    sections = profile_section(MODEL_SECTION, profile)
    values = dict(sections.get(name) or {})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return CONFIG_CLASSES[name].from_dict(values)
