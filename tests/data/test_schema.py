import numpy as np
import pytest
import xarray as xr

from prelib.data.schema import validate_benchmark
from prelib.data.store import open_benchmark


@pytest.fixture(scope="module")
def swath(swath_store):
    return open_benchmark(swath_store).load()


@pytest.fixture(scope="module")
def fulldisc(fulldisc_store):
    return open_benchmark(fulldisc_store).load()


def test_built_stores_pass(swath, fulldisc):
    validate_benchmark(swath, "swath", check_values=True)
    validate_benchmark(fulldisc, "fulldisc", check_values=True)
    assert swath.attrs["benchmark_kind"] == "swath" and swath.attrs["Conventions"] == "CF-1.10"
    assert swath["pr"].attrs["units"] == "dBZ" and swath["pmw"].attrs["units"] == "K"


def test_kinds_are_not_interchangeable(swath, fulldisc):
    with pytest.raises(ValueError, match="scan"):
        validate_benchmark(fulldisc, "swath")
    with pytest.raises(ValueError, match="'y'"):
        validate_benchmark(swath, "fulldisc")
    with pytest.raises(ValueError, match="kind"):
        validate_benchmark(swath, "grid")


def _broken(ds, how):
    ds = ds.copy()
    if how == "missing pmw":
        return ds.drop_vars("pmw"), "'pmw'"
    if how == "wrong units":
        ds["precip"].attrs["units"] = "mm/day"
        return ds, "units"
    if how == "float64":
        ds["ir"] = ds["ir"].astype("float64")
        return ds, "float32"
    if how == "short patch":
        return ds.isel(scan=slice(0, 128)), "'scan'"
    if how == "no sample dim":
        return ds.isel(sample=0), "'sample'"
    if how == "transposed":
        ds["ir"] = ds["ir"].transpose("sample", "scan", "ray", "ir_channel")
        return ds, "dims"
    if how == "no time":
        return ds.drop_vars("time"), "'time'"
    if how == "counts":
        ds["ir"] = ds["ir"] * 10.0
        return ds, r"\[100, 400\] K"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "missing pmw",
        "wrong units",
        "float64",
        "short patch",
        "no sample dim",
        "transposed",
        "no time",
        "counts",
    ],
)
def test_broken_copies_fail_naming_the_problem(swath, how):
    broken, match = _broken(swath, how)
    with pytest.raises(ValueError, match=match):
        validate_benchmark(broken, "swath", check_values=True)


def test_not_a_dataset():
    with pytest.raises(ValueError, match="Dataset"):
        validate_benchmark(xr.DataArray(np.zeros(3)), "swath")
