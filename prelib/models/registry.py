"""Models and distillers by name, so notebooks and commands pass plain strings.

>>> teacher = get_model("teacher", "tiny")                       # doctest: +SKIP
>>> distiller = get_distiller("rmkd", "tiny")                    # doctest: +SKIP
>>> student = get_student("rmkd", "tiny", n_classes=2)           # PRE-Net without DAWE
"""

from __future__ import annotations

from typing import Any

from torch import nn

from prelib.models.config import load_model_config
from prelib.models.distill import DISTILLERS, Distiller

MODEL_NAMES: tuple[str, ...] = ("teacher", "prenet", "unet", "prenet_light")
DISTILLER_NAMES: tuple[str, ...] = tuple(DISTILLERS)


def get_model(name: str, profile: str = "demo", **cfg: Any) -> nn.Module:
    """Build a network from its profile.

    Parameters
    ----------
    name : str
        ``"teacher"`` (:class:`~prelib.models.teacher.Teacher`), ``"prenet"``
        (:class:`~prelib.models.prenet.PRENet`), ``"unet"`` (:class:`~prelib.models.unet.UNet`)
        or ``"prenet_light"`` (:class:`~prelib.models.prenet_light.PRENetLight`).
    profile : str
        ``"tiny"``, ``"demo"`` or ``"paper"`` (section ``name`` of ``profiles/models.yaml``).
    **cfg
        Config-field overrides, e.g. ``n_classes=2``, ``dawe_mode="reference"``,
        ``modalities=("pmw", "pr")``.

    Raises
    ------
    ValueError
        Unknown name, profile or field, or an invalid value.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose one of {list(MODEL_NAMES)}")
    config = load_model_config(name, profile, **cfg)
    if name == "teacher":
        from prelib.models.teacher import Teacher

        return Teacher(config)
    if name == "prenet":
        from prelib.models.prenet import PRENet

        return PRENet(config)
    if name == "prenet_light":
        from prelib.models.prenet_light import PRENetLight

        return PRENetLight(config)
    from prelib.models.unet import UNet

    return UNet(config)


def _level_channels(name: str, profile: str, overrides: dict[str, Any]) -> tuple[int, int, int]:
    width = load_model_config(name, profile, **overrides).base_width
    return (2 * width, 4 * width, 8 * width)


def get_distiller(
    name: str,
    profile: str = "demo",
    *,
    student_channels: tuple[int, ...] | None = None,
    teacher_channels: tuple[int, ...] | None = None,
    **cfg: Any,
) -> Distiller:
    """Build a distillation method.

    Parameters
    ----------
    name : str
        ``"none"``, ``"kd"``, ``"mgd"``, ``"mkd"``, ``"rmkd"`` or ``"comwe"``.
    profile : str
        Profile of the ``distill`` section, and of the student/teacher widths when the channels
        are not given.
    student_channels, teacher_channels : tuple of int, optional
        Channels of the three distilled levels; default from the profile's ``base_width``
        (paper: 128, 256, 512).
    **cfg
        :class:`~prelib.models.config.DistillConfig` overrides, e.g. ``weighting="code"``.
    """
    if name not in DISTILLERS:
        raise ValueError(f"unknown distiller {name!r}; choose one of {list(DISTILLER_NAMES)}")
    cls = DISTILLERS[name]
    config = load_model_config("distill", profile, **cfg)
    if student_channels is None:
        student_channels = _level_channels(cls.student, profile, {})
    if teacher_channels is None:
        teacher_channels = _level_channels("teacher", profile, {})
    return cls(config, tuple(student_channels), tuple(teacher_channels))


def get_student(distiller: str, profile: str = "demo", **cfg: Any) -> nn.Module:
    """The student network a distillation method trains, with the config it implies.

    ``none``/``kd``/``mgd`` → UNet; ``mkd`` → PRE-Net with one AE view and no DAWE; ``rmkd`` →
    PRE-Net without DAWE; ``comwe`` → the full PRE-Net. ``cfg`` overrides win.
    """
    if distiller not in DISTILLERS:
        raise ValueError(f"unknown distiller {distiller!r}; choose one of {list(DISTILLER_NAMES)}")
    cls = DISTILLERS[distiller]
    overrides = {**(cls.student_overrides if cls.student == "prenet" else {}), **cfg}
    return get_model(cls.student, profile, **overrides)
