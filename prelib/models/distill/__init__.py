"""Distillation methods swappable by name: none, kd, mgd, mkd, rmkd, comwe."""

from prelib.models.distill.base import Distiller, channel_kl
from prelib.models.distill.masked import RMKD, CoMWE, MaskedFeatureKD
from prelib.models.distill.mgd import MGD
from prelib.models.distill.response import NoDistillation, ResponseKD

DISTILLERS: dict[str, type[Distiller]] = {
    cls.name: cls for cls in (NoDistillation, ResponseKD, MGD, MaskedFeatureKD, RMKD, CoMWE)
}
"""Registry: name → distiller class."""

__all__ = [
    "DISTILLERS",
    "MGD",
    "RMKD",
    "CoMWE",
    "Distiller",
    "MaskedFeatureKD",
    "NoDistillation",
    "ResponseKD",
    "channel_kl",
]
