"""One source of truth for names, dimensions, units, CF attributes, channel lists and thresholds.

Every module of prelib — the synthetic world, the real-product readers, the benchmark builders,
the datasets, the models, the metrics and the notebooks — takes its names from here, so that the
synthetic path and the real path write *exactly* the same schema.

The benchmark schema
--------------------
Swath-MPR (multimodal, 5 km swath grid, patches of ``SWATH_PATCH_SHAPE`` = 256 scans × 49 rays)::

    ir         (sample, ir_channel, scan, ray)    float32  K      AGRI channels 07-14
    pmw        (sample, pmw_channel, scan, ray)   float32  K      GMI 13 channels
    pr         (sample, bin, scan, ray)           float32  dBZ    DPR Ku, 176 x 125 m bins
    precip     (sample, scan, ray)                float32  mm h-1 hourly label (CLDAS-like)
    elevation  (sample, scan, ray)                float32  m
    lat, lon   (sample, scan, ray)                float32  degrees (coordinates)
    time       (sample,)                          datetime64 UTC, label hour's end

Full-IPR (IR only, 4 km grid, patches of ``FULL_DISC_PATCH_SHAPE`` = 256 × 256)::

    ir         (sample, ir_channel, y, x)         float32  K
    precip     (sample, y, x)                     float32  mm h-1
    elevation  (sample, y, x)                     float32  m
    lat, lon   (sample, y, x)                     float32  degrees (coordinates)
    time       (sample,)                          datetime64[ns]

Optional per-sample metadata variables: ``regime`` (sample,) str (synthetic world only),
``split`` attribute on the dataset (``train``/``val``/``test``), ``source`` attribute
(``synthetic`` or ``real``).
"""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------------------------
# Thresholds (paper: Wang et al., KDD 2025, §5.1; prenet_reference.md §7)
# --------------------------------------------------------------------------------------------
RAIN_THRESHOLD: Final[float] = 0.1
"""Rain / no-rain threshold in mm h-1, applied with ``>=`` to prediction and truth."""

CSI_NEIGHBOURHOOD_SIZES: Final[tuple[int, ...]] = (4, 8)
"""Kernel sizes (pixels) of the paper's non-overlapping max-pool CSI (CSI-4, CSI-8)."""

# --------------------------------------------------------------------------------------------
# Dimension names
# --------------------------------------------------------------------------------------------
DIM_SAMPLE: Final = "sample"
DIM_TIME: Final = "time"
DIM_Y: Final = "y"
DIM_X: Final = "x"
DIM_SCAN: Final = "scan"
DIM_RAY: Final = "ray"
DIM_BIN: Final = "bin"
DIM_IR_CHANNEL: Final = "ir_channel"
DIM_PMW_CHANNEL: Final = "pmw_channel"
DIM_MEMBER: Final = "member"
"""Ensemble-member dimension (PrecipDiff ensembles)."""

GRID_DIMS: Final[tuple[str, str]] = (DIM_Y, DIM_X)
SWATH_DIMS: Final[tuple[str, str]] = (DIM_SCAN, DIM_RAY)

# --------------------------------------------------------------------------------------------
# Variable names
# --------------------------------------------------------------------------------------------
VAR_IR: Final = "ir"
VAR_PMW: Final = "pmw"
VAR_PR: Final = "pr"
VAR_PRECIP: Final = "precip"
VAR_ELEVATION: Final = "elevation"
VAR_LAT: Final = "lat"
VAR_LON: Final = "lon"
VAR_TIME: Final = "time"
VAR_REGIME: Final = "regime"
VAR_LAND: Final = "land"

MODALITIES: Final[tuple[str, ...]] = (VAR_IR, VAR_PMW, VAR_PR)
"""Satellite modalities of the multimodal teacher, in the teacher's stacking order."""

GEO_CHANNELS: Final[tuple[str, ...]] = (VAR_ELEVATION, VAR_LAT, VAR_LON)
"""Geographic planes fed to the teacher's late-fusion stem, in order (prenet_reference §2.2)."""

# --------------------------------------------------------------------------------------------
# Units (UDUNITS strings as written into files)
# --------------------------------------------------------------------------------------------
UNITS_PRECIP: Final = "mm h-1"
UNITS_BT: Final = "K"
UNITS_REFLECTIVITY: Final = "dBZ"
UNITS_ELEVATION: Final = "m"
UNITS_LAT: Final = "degrees_north"
UNITS_LON: Final = "degrees_east"

# --------------------------------------------------------------------------------------------
# Physical plausibility (checked at the door by prelib.validation)
# --------------------------------------------------------------------------------------------
VALID_RANGES: Final[dict[str, tuple[float, float]]] = {
    "ir": (50.0, 400.0),
    "pmw": (50.0, 350.0),
    "pr": (-30.0, 80.0),
    "precip": (0.0, 500.0),
}
"""Physically possible values per schema variable, in its canonical units (K, K, dBZ, mm h-1):
microwave brightness temperatures 50–350 K, infrared 50–400 K (the 3.7 µm channels reach ~400 K
with reflected sunlight over hot ground, where the AGRI tables end), reflectivity −30–80 dBZ,
rain rate 0–500 mm h-1. Values outside are masked as missing; a field mostly outside is refused
(wrong units)."""

FILL_VALUES: Final[tuple[float, ...]] = (-9999.9, -9999.0, -8888.0, -28888.0, -1111.0)
"""Missing-value codes of the real products (GPM −9999.9/−9999, DPR clutter −28888 and the
−8888/−1111 flags of other products); ±inf and |x| ≥ 1e30 are treated as fill too."""

MIN_VALID_FRACTION: Final[dict[str, float]] = {"ir": 0.5, "pmw": 0.5}
"""Smallest fraction of a sample's pixels with every channel of the modality valid; a sample
below it is rejected with the reason (the label's own threshold is the build's
``min_valid_fraction``; the radar profile is mostly 'no echo' by nature and has none)."""

# --------------------------------------------------------------------------------------------
# Sensors and channel lists
# --------------------------------------------------------------------------------------------
AGRI_IR_CHANNELS: Final[tuple[str, ...]] = ("C07", "C08", "C09", "C10", "C11", "C12", "C13", "C14")
"""FY-4A AGRI thermal channels used as PRE-Net's 8 IR inputs (data_formats.md §1.2)."""

AGRI_IR_WAVELENGTHS_UM: Final[tuple[float, ...]] = (3.72, 3.72, 6.25, 7.10, 8.5, 10.8, 12.0, 13.5)
"""Central wavelengths (µm) of ``AGRI_IR_CHANNELS``; C07 is high gain and C08 low gain."""

AGRI_IR_NAMES: Final[tuple[str, ...]] = (
    "MIR372H",
    "MIR372L",
    "VAP625",
    "VAP710",
    "IR085",
    "IR108",
    "IR120",
    "IR135",
)
"""PRE-Net's names for ``AGRI_IR_CHANNELS``."""

AGRI_WINDOW_CHANNEL: Final = "C12"
"""The 10.8 µm window channel used by GPI, Auto-Estimator and PERSIANN-CCS."""

GMI_CHANNELS: Final[tuple[str, ...]] = (
    "10.65V",
    "10.65H",
    "18.7V",
    "18.7H",
    "23.8V",
    "36.64V",
    "36.64H",
    "89.0V",
    "89.0H",
    "166V",
    "166H",
    "183.31+-3V",
    "183.31+-7V",
)
"""GPM GMI channels in 1C order: S1 (9, low frequency) then S2 (4, high frequency)."""

GMI_FREQUENCIES_GHZ: Final[tuple[float, ...]] = (
    10.65,
    10.65,
    18.7,
    18.7,
    23.8,
    36.64,
    36.64,
    89.0,
    89.0,
    166.0,
    166.0,
    183.31,
    183.31,
)

DPR_N_BINS: Final[int] = 176
"""Range bins of the DPR Ku profile (V07 FS), 125 m each, ordered top (bin 0) to bottom."""

DPR_BIN_SPACING_M: Final[float] = 125.0
DPR_N_RAYS: Final[int] = 49
"""DPR Ku cross-track rays (245 km swath at ~5 km)."""

DPR_SWATH_WIDTH_KM: Final[float] = 245.0
GMI_SWATH_WIDTH_KM: Final[float] = 885.0
GPM_INCLINATION_DEG: Final[float] = 65.0

N_IR: Final[int] = len(AGRI_IR_CHANNELS)
N_PMW: Final[int] = len(GMI_CHANNELS)
N_PR: Final[int] = DPR_N_BINS
N_GEO: Final[int] = len(GEO_CHANNELS)

# --------------------------------------------------------------------------------------------
# Domain, grids and patches (paper §5.1, prenet_reference §2)
# --------------------------------------------------------------------------------------------
DOMAIN_LAT: Final[tuple[float, float]] = (0.0, 65.0)
DOMAIN_LON: Final[tuple[float, float]] = (60.0, 160.0)
"""The paper's study region 0-65°N, 60-160°E (degrees)."""

FULL_DISC_RESOLUTION_KM: Final[float] = 4.0
SWATH_RESOLUTION_KM: Final[float] = 5.0
LABEL_RESOLUTION_DEG: Final[float] = 0.0625
"""CLDAS-V2.0 grid spacing (degrees)."""

SWATH_PATCH_SHAPE: Final[tuple[int, int]] = (256, 49)
"""(scan, ray) of a Swath-MPR patch."""

FULL_DISC_PATCH_SHAPE: Final[tuple[int, int]] = (256, 256)
"""(y, x) of a Full-IPR patch."""

SPLITS: Final[tuple[str, ...]] = ("train", "val", "test")
REGIMES: Final[tuple[str, ...]] = ("frontal", "convective", "orographic", "stratiform")
"""Precipitation regimes of the synthetic world."""

CASE_STUDIES: Final[tuple[str, ...]] = ("frontal", "convective", "orographic")

# --------------------------------------------------------------------------------------------
# Normalisation constants (one place; the datasets apply them)
# --------------------------------------------------------------------------------------------
IR_NORM: Final[tuple[float, float]] = (100.0, 400.0)
"""(offset, scale): the paper's x = (BT - 100) / 400, i.e. [100 K, 500 K] -> [0, 1]."""

PMW_NORM: Final[tuple[float, float]] = (50.0, 250.0)
"""(offset, scale) for GMI Tb in K: [50 K, 300 K] -> [0, 1] (our choice; the paper gives none)."""

PR_NORM: Final[tuple[float, float]] = (0.0, 60.0)
"""(offset, scale) for reflectivity in dBZ; missing (below sensitivity) becomes 0 after scaling
(our choice: 'no echo' and 0 dBZ are both 'nothing detected')."""

GEO_NORM: Final[dict[str, tuple[float, float]]] = {
    VAR_ELEVATION: (0.0, 10000.0),
    VAR_LAT: (-90.0, 180.0),
    VAR_LON: (-180.0, 360.0),
}
"""(offset, scale) per geo plane, as in the reference code's geo_norm (prenet_reference §2.2)."""

# --------------------------------------------------------------------------------------------
# CF attributes per variable
# --------------------------------------------------------------------------------------------
CF_ATTRS: Final[dict[str, dict[str, str]]] = {
    VAR_IR: {
        "standard_name": "toa_brightness_temperature",
        "long_name": "FY-4A AGRI infrared brightness temperature",
        "units": UNITS_BT,
    },
    VAR_PMW: {
        "standard_name": "toa_brightness_temperature",
        "long_name": "GPM GMI microwave brightness temperature",
        "units": UNITS_BT,
    },
    VAR_PR: {
        "standard_name": "equivalent_reflectivity_factor",
        "long_name": "GPM DPR Ku-band measured reflectivity profile",
        "units": UNITS_REFLECTIVITY,
    },
    VAR_PRECIP: {
        "standard_name": "lwe_precipitation_rate",
        "long_name": "hourly surface precipitation rate",
        "units": UNITS_PRECIP,
    },
    VAR_ELEVATION: {
        "standard_name": "surface_altitude",
        "long_name": "surface elevation above mean sea level",
        "units": UNITS_ELEVATION,
    },
    VAR_LAT: {"standard_name": "latitude", "long_name": "latitude", "units": UNITS_LAT},
    VAR_LON: {"standard_name": "longitude", "long_name": "longitude", "units": UNITS_LON},
    VAR_LAND: {"long_name": "land (1) / water (0) mask", "units": "1"},
    VAR_REGIME: {"long_name": "dominant precipitation regime of the synthetic scene"},
}

CONVENTIONS_ATTR: Final = "CF-1.10"
"""Value of the global ``Conventions`` attribute written into every prelib file."""


def cf_attrs(var: str) -> dict[str, str]:
    """Return a copy of the CF attributes for a schema variable.

    Parameters
    ----------
    var : str
        One of the ``VAR_*`` names.

    Raises
    ------
    ValueError
        If ``var`` is not a schema variable.
    """
    try:
        return dict(CF_ATTRS[var])
    except KeyError:
        raise ValueError(f"unknown schema variable {var!r}; known: {sorted(CF_ATTRS)}") from None
