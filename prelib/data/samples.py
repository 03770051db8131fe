"""One benchmark sample from the synthetic world, in the benchmark schema.

:func:`generate_sample` walks the sample plan of :mod:`prelib.data.sample_plan`: it simulates
attempt 0 with :func:`prelib.sim.scene.simulate_swath_scene` or
:func:`prelib.sim.scene.simulate_grid_scene`, keeps it if the label passes the dry/invalid
filter, otherwise tries attempt 1, 2 … The result is a dataset *without* the ``sample``
dimension; :mod:`prelib.data.store` stacks samples into a Zarr store and
:mod:`prelib.data.datasets` streams them to torch.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from prelib.conventions import (
    CONVENTIONS_ATTR,
    DIM_RAY,
    DIM_SCAN,
    DIM_X,
    DIM_Y,
    FULL_DISC_PATCH_SHAPE,
    FULL_DISC_RESOLUTION_KM,
    SWATH_PATCH_SHAPE,
    VAR_ELEVATION,
    VAR_IR,
    VAR_LAND,
    VAR_PMW,
    VAR_PR,
    VAR_PRECIP,
    VAR_REGIME,
    cf_attrs,
)
from prelib.data.benchmark_config import BenchmarkConfig, check_kind, check_split
from prelib.data.sample_plan import SampleSpec, is_kept, plan_sample

SWATH_VARIABLES: tuple[str, ...] = (VAR_IR, VAR_PMW, VAR_PR, VAR_PRECIP, VAR_ELEVATION, VAR_LAND)
"""Data variables of a Swath-MPR sample (``lat``, ``lon``, ``time`` are coordinates)."""

FULLDISC_VARIABLES: tuple[str, ...] = (VAR_IR, VAR_PRECIP, VAR_ELEVATION, VAR_LAND)
"""Data variables of a Full-IPR sample."""

SCENE_METADATA: dict[str, tuple[str, str, str]] = {
    "scene_seed": ("int64", "1", "seed passed to the synthetic world for this sample"),
    "attempt": ("int16", "1", "rejection attempt of the sample plan that was kept (0 = first)"),
    "wind_u": ("float32", "m s-1", "eastward steering wind of the scene"),
    "wind_v": ("float32", "m s-1", "northward steering wind of the scene"),
    "observation_offset_s": ("float32", "s", "satellite observation time minus label-hour end"),
}
"""Per-sample metadata variables (dtype, units, long_name) taken from the scene attributes."""


def simulate_spec(spec: SampleSpec) -> xr.Dataset:
    """Simulate the scene of one plan draw and return it in the benchmark sample schema.

    Returns
    -------
    xarray.Dataset
        Swath: ``ir`` (ir_channel=8, scan=256, ray=49) K, ``pmw`` (pmw_channel=13, …) K,
        ``pr`` (bin=176, …) dBZ, ``precip`` (scan, ray) mm h-1, ``elevation`` m, ``land``;
        Full-IPR: ``ir`` (ir_channel=8, y=256, x=256), ``precip``, ``elevation``, ``land``.
        Both: coords ``lat``, ``lon`` (float32, degrees), scalar ``time``; a scalar ``regime``
        string variable and the scalar metadata variables of :data:`SCENE_METADATA`.
    """
    from prelib.sim.scene import simulate_grid_scene, simulate_swath_scene

    if spec.kind == "swath":
        scene = simulate_swath_scene(
            spec.time,
            seed=spec.scene_seed,
            n_scans=SWATH_PATCH_SHAPE[0],
            regime=spec.regime,
            centre=spec.centre,
            sensors=(VAR_IR, VAR_PMW, VAR_PR),
        )
        variables, dims, shape = SWATH_VARIABLES, (DIM_SCAN, DIM_RAY), SWATH_PATCH_SHAPE
    else:
        scene = simulate_grid_scene(
            spec.lat_bounds,
            spec.lon_bounds,
            spec.time,
            seed=spec.scene_seed,
            regime=spec.regime,
            resolution_km=FULL_DISC_RESOLUTION_KM,
            sensors=(VAR_IR,),
        )
        variables, dims, shape = FULLDISC_VARIABLES, (DIM_Y, DIM_X), FULL_DISC_PATCH_SHAPE
    got = tuple(scene.sizes[d] for d in dims)
    if got != tuple(shape):
        raise RuntimeError(
            f"the world returned a {got} scene for a {tuple(shape)} {spec.kind} patch"
        )
    sample = scene[list(variables)]
    sample[VAR_REGIME] = xr.Variable((), str(scene.attrs["regime"]), cf_attrs(VAR_REGIME))
    sample = sample.drop_vars([c for c in ("bin_height",) if c in sample.coords])
    values = {**scene.attrs, "scene_seed": spec.scene_seed, "attempt": spec.attempt}
    for name, (dtype, units, long_name) in SCENE_METADATA.items():
        value = np.asarray(values.get(name, np.nan), dtype=dtype)
        sample[name] = xr.Variable((), value, {"units": units, "long_name": long_name})
    sample.attrs = {
        "Conventions": CONVENTIONS_ATTR,
        "source": "synthetic",
        "dem": str(scene.attrs.get("dem", "")),
    }
    return sample


def generate_sample(
    kind: str, split: str, index: int, config: BenchmarkConfig
) -> tuple[xr.Dataset, SampleSpec]:
    """The kept sample ``index`` of a split: the first plan attempt that is not dry.

    Parameters
    ----------
    kind : {"swath", "fulldisc"}
    split : {"train", "val", "test"}
    index : int
        Sample index; ``0 <= index``; the split's size does not change sample ``index``.
    config : BenchmarkConfig
        Seed, forced regimes and the dry/valid thresholds.

    Returns
    -------
    (xarray.Dataset, SampleSpec)
        The sample (see :func:`simulate_spec`) and the plan draw that produced it.

    Raises
    ------
    RuntimeError
        If ``config.max_attempts`` draws in a row are all dry or invalid.
    """
    check_kind(kind)
    check_split(split)
    for attempt in range(config.max_attempts):
        spec = plan_sample(kind, split, index, attempt, config.seed, config.regimes)
        sample = simulate_spec(spec)
        precip = np.asarray(sample[VAR_PRECIP].values)
        if is_kept(precip, config.min_wet_fraction, config.min_valid_fraction):
            return sample, spec
    raise RuntimeError(
        f"{kind}/{split} sample {index}: {config.max_attempts} draws were all drier than "
        f"min_wet_fraction={config.min_wet_fraction} or less valid than "
        f"min_valid_fraction={config.min_valid_fraction}; lower the thresholds or raise "
        "max_attempts"
    )
