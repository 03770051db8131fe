"""Models and distillers by name, built from configuration objects.

>>> cfg = prelib.config.resolve("tiny")                              # doctest: +SKIP
>>> teacher = get_model("teacher", cfg.models.teacher)               # doctest: +SKIP
>>> distiller = get_distiller("rmkd", cfg.models)                    # doctest: +SKIP
>>> student = get_student("rmkd", cfg.models, n_classes=2)           # PRE-Net without DAWE

The configuration objects come from :func:`prelib.config.resolve` (or
:func:`~prelib.models.config.load_model_configs`); nothing here reads a profile. For code
written before the run configuration, a profile name is still accepted in place of the config
(with a ``DeprecationWarning``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from prelib.config import Config
from prelib.models.config import CONFIG_CLASSES, ModelConfigs, load_model_config, load_model_configs
from prelib.models.diffusion_unet import DiffusionUNetConfig
from prelib.models.distill import DISTILLERS, Distiller
from prelib.models.maunet import MAUNetConfig

DOWNSCALING_CONFIG_CLASSES: dict[str, type[Config]] = {
    "maunet": MAUNetConfig,
    "diffusion_unet": DiffusionUNetConfig,
}
"""The downscaling networks: their configurations are not sections of ``models.yaml`` but come
from ``cfg.downscaling`` (``maunet_config()``, ``unet_config()``)."""

MODEL_NAMES: tuple[str, ...] = (
    "teacher",
    "prenet",
    "unet",
    "prenet_light",
    "maunet",
    "diffusion_unet",
)
DISTILLER_NAMES: tuple[str, ...] = tuple(DISTILLERS)


def _deprecated_profile(profile: str, where: str) -> None:
    from prelib.config import deprecated_profile_name

    deprecated_profile_name(profile, where, stacklevel=5)  # points at the caller of ``where``


def _section(name: str, config: Config | ModelConfigs | str | None, overrides: dict) -> Config:
    """The validated section ``name`` from a section, all sections, or (deprecated) a profile."""
    if name in DOWNSCALING_CONFIG_CLASSES:
        cls = DOWNSCALING_CONFIG_CLASSES[name]
        if config is None:
            config = cls()
        if not isinstance(config, cls):
            raise ValueError(
                f"{name}: expected a {cls.__name__} (from cfg.downscaling), "
                f"got {type(config).__name__}"
            )
        changes = {k: v for k, v in overrides.items() if v is not None}
        return config.replace(**changes) if changes else config
    if isinstance(config, str):
        _deprecated_profile(config, f"get_model({name!r}, ...)")
        return load_model_config(name, config, **overrides)
    if config is None:
        section = CONFIG_CLASSES[name]()
    elif isinstance(config, ModelConfigs):
        section = config.section(name)
    elif isinstance(config, CONFIG_CLASSES[name]):
        section = config
    else:
        raise ValueError(
            f"{name}: expected a {CONFIG_CLASSES[name].__name__} or ModelConfigs, "
            f"got {type(config).__name__}"
        )
    changes = {k: v for k, v in overrides.items() if v is not None}
    return section.replace(**changes) if changes else section


def get_model(
    name: str, config: Config | ModelConfigs | str | None = None, **overrides: Any
) -> nn.Module:
    """Build a network from its configuration.

    Parameters
    ----------
    name : str
        ``"teacher"`` (:class:`~prelib.models.teacher.Teacher`), ``"prenet"``
        (:class:`~prelib.models.prenet.PRENet`), ``"unet"`` (:class:`~prelib.models.unet.UNet`),
        ``"prenet_light"`` (:class:`~prelib.models.prenet_light.PRENetLight`), or a downscaling
        network: ``"maunet"`` (:class:`~prelib.models.maunet.MAUNet`, MAUNet-Light with a
        ``width_mult`` below 1) or ``"diffusion_unet"``
        (:class:`~prelib.models.diffusion_unet.ConditionalUNet`).
    config : TeacherConfig, PRENetConfig, UNetConfig or ModelConfigs, optional
        The network's configuration (e.g. ``cfg.models.teacher``), or all model sections
        (``cfg.models``) from which section ``name`` is taken; for the downscaling networks a
        :class:`~prelib.models.maunet.MAUNetConfig` (``cfg.downscaling.maunet_config()``) or
        :class:`~prelib.models.diffusion_unet.DiffusionUNetConfig`. Default: the paper's values.
    **overrides
        Config-field changes, e.g. ``n_classes=2``, ``dawe_mode="reference"``,
        ``modalities=("pmw", "pr")``; ``None`` values are ignored.

    Raises
    ------
    ValueError
        Unknown name or field, a config of the wrong class, or an invalid value.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose one of {list(MODEL_NAMES)}")
    section = _section(name, config, overrides)
    if name == "teacher":
        from prelib.models.teacher import Teacher

        return Teacher(section)
    if name == "prenet":
        from prelib.models.prenet import PRENet

        return PRENet(section)
    if name == "prenet_light":
        from prelib.models.prenet_light import PRENetLight

        return PRENetLight(section)
    if name == "maunet":
        from prelib.models.maunet import MAUNet

        return MAUNet(section)
    if name == "diffusion_unet":
        from prelib.models.diffusion_unet import ConditionalUNet

        return ConditionalUNet(section)
    from prelib.models.unet import UNet

    return UNet(section)


def _level_channels(section: Config) -> tuple[int, int, int]:
    width = section.base_width
    return (2 * width, 4 * width, 8 * width)


def _all_sections(configs: ModelConfigs | str | None, where: str) -> ModelConfigs:
    if isinstance(configs, str):
        _deprecated_profile(configs, where)
        return load_model_configs(configs)
    if configs is None:
        return ModelConfigs()
    if not isinstance(configs, ModelConfigs):
        raise ValueError(
            f"{where}: expected ModelConfigs (cfg.models), got {type(configs).__name__}"
        )
    return configs


def get_distiller(
    name: str,
    configs: ModelConfigs | str | None = None,
    *,
    student_channels: tuple[int, ...] | None = None,
    teacher_channels: tuple[int, ...] | None = None,
    **overrides: Any,
) -> Distiller:
    """Build a distillation method.

    Parameters
    ----------
    name : str
        ``"none"``, ``"kd"``, ``"mgd"``, ``"mkd"``, ``"rmkd"`` or ``"comwe"``.
    configs : ModelConfigs, optional
        All model sections (``cfg.models``): ``distill`` and the student/teacher widths when the
        channels are not given. Default: the paper's values.
    student_channels, teacher_channels : tuple of int, optional
        Channels of the three distilled levels; default from the sections' ``base_width``
        (paper: 128, 256, 512).
    **overrides
        :class:`~prelib.models.config.DistillConfig` changes, e.g. ``weighting="code"``.
    """
    if name not in DISTILLERS:
        raise ValueError(f"unknown distiller {name!r}; choose one of {list(DISTILLER_NAMES)}")
    configs = _all_sections(configs, f"get_distiller({name!r}, ...)")
    cls = DISTILLERS[name]
    changes = {k: v for k, v in overrides.items() if v is not None}
    config = configs.distill.replace(**changes) if changes else configs.distill
    if student_channels is None:
        student_channels = _level_channels(configs.section(cls.student))
    if teacher_channels is None:
        teacher_channels = _level_channels(configs.teacher)
    return cls(config, tuple(student_channels), tuple(teacher_channels))


def get_student(
    distiller: str, configs: ModelConfigs | str | None = None, **overrides: Any
) -> nn.Module:
    """The student network a distillation method trains, with the config it implies.

    ``none``/``kd``/``mgd`` → UNet; ``mkd`` → PRE-Net with one AE view and no DAWE; ``rmkd`` →
    PRE-Net without DAWE; ``comwe`` → the full PRE-Net. ``configs`` is ``cfg.models``;
    ``overrides`` win over the method's implied fields.
    """
    if distiller not in DISTILLERS:
        raise ValueError(f"unknown distiller {distiller!r}; choose one of {list(DISTILLER_NAMES)}")
    configs = _all_sections(configs, f"get_student({distiller!r}, ...)")
    cls = DISTILLERS[distiller]
    changes = {**(cls.student_overrides if cls.student == "prenet" else {}), **overrides}
    return get_model(cls.student, configs, **changes)
