"""AGRI channel tables of FY-4A (14 channels) and FY-4B (15 channels) and the IR channel choice.

FY-4B inserts a 7.42 µm channel as C11, so the 8.5/10.8/12.0/13.5 µm channels are C12–C15 there
instead of C11–C14 (data_formats.md §1.3). PRE-Net's eight IR inputs are defined by wavelength
(conventions.AGRI_IR_WAVELENGTHS_UM); :func:`default_ir_channels` returns the file channel names
that carry them for each satellite.
"""

from __future__ import annotations

from prelib.conventions import AGRI_IR_CHANNELS

CENTRAL_WAVELENGTH_UM: dict[str, dict[str, float]] = {
    "FY4A": {
        "C01": 0.47,
        "C02": 0.65,
        "C03": 0.825,
        "C04": 1.375,
        "C05": 1.61,
        "C06": 2.225,
        "C07": 3.725,
        "C08": 3.725,
        "C09": 6.25,
        "C10": 7.1,
        "C11": 8.5,
        "C12": 10.8,
        "C13": 12.0,
        "C14": 13.5,
    },
    "FY4B": {
        "C01": 0.47,
        "C02": 0.65,
        "C03": 0.825,
        "C04": 1.379,
        "C05": 1.61,
        "C06": 2.225,
        "C07": 3.75,
        "C08": 3.75,
        "C09": 6.25,
        "C10": 6.95,
        "C11": 7.42,
        "C12": 8.55,
        "C13": 10.8,
        "C14": 12.0,
        "C15": 13.3,
    },
}
"""Central wavelengths (µm) per satellite and channel (satpy agri_fy4a/4b_l1.yaml)."""

THERMAL_FROM: str = "C07"
"""First thermal (brightness-temperature) channel on both satellites; C01–C06 are reflectances."""

_FY4B_IR_CHANNELS: tuple[str, ...] = ("C07", "C08", "C09", "C10", "C12", "C13", "C14", "C15")


def satellite_key(name: str) -> str:
    """Normalise ``"FY-4A"``, ``"FY4A"``, ``"fy4b"`` … to ``"FY4A"`` / ``"FY4B"``."""
    key = name.upper().replace("-", "").replace("_", "").strip()
    if key == "FY4C":  # same layout as FY-4B (groups, 15 channels) as far as is known
        key = "FY4B"
    if key not in CENTRAL_WAVELENGTH_UM:
        raise ValueError(f"unknown AGRI satellite {name!r}; expected FY-4A or FY-4B")
    return key


def default_ir_channels(satellite: str, *, prenet_compat: bool = False) -> tuple[str, ...]:
    """File channel names holding PRE-Net's eight IR inputs.

    Parameters
    ----------
    satellite : str
        ``"FY4A"`` or ``"FY4B"``.
    prenet_compat : bool
        PRE-Net's reference code reads channels 07–14 by number on both satellites, so on FY-4B
        it takes 7.42 µm and misses 13.3 µm. With ``True`` that literal choice is returned.
    """
    key = satellite_key(satellite)
    if key == "FY4A" or prenet_compat:
        return AGRI_IR_CHANNELS
    return _FY4B_IR_CHANNELS


def channel_names(satellite: str) -> tuple[str, ...]:
    """All channel names of a satellite (C01…C14 or C01…C15)."""
    return tuple(CENTRAL_WAVELENGTH_UM[satellite_key(satellite)])


def is_thermal(channel: str) -> bool:
    """True for brightness-temperature channels (C07 and above)."""
    return int(channel[1:]) >= int(THERMAL_FROM[1:])
