"""The streaming engine: fused == two-pass, tiled == untiled, coverage, skipped tiles, outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from prelib import conventions as cv
from prelib.config import resolve
from prelib.inference.composition import TwoNetworkRetrieval, compose_precipitation
from prelib.inference.engine import InferenceSettings, infer
from prelib.inference.retrieval import _fill_missing, normalize_ir
from prelib.inference.sources import AgriL1Source, ArraySource
from prelib.inference.tiling import predict_tiled, tile_overlaps, tile_starts
from prelib.inference.writers import MemoryWriter as MemoryWriterForTest
from prelib.inference.writers import NetCDFWriter, ZarrWriter
from prelib.models import get_model


def _scene(h=150, w=170, seed=0):
    rng = np.random.default_rng(seed)
    ir = rng.uniform(200.0, 300.0, size=(cv.N_IR, h, w)).astype(np.float32)
    return ir, np.linspace(40.0, 30.0, h), np.linspace(100.0, 112.0, w)


def _tiny_pair() -> TwoNetworkRetrieval:
    torch.manual_seed(0)
    cls = get_model("prenet", resolve("tiny").models, n_classes=2).eval()
    reg = get_model("prenet", resolve("tiny").models).eval()
    return TwoNetworkRetrieval(cls, reg)


def _balance_rain(model: TwoNetworkRetrieval, x: np.ndarray) -> None:
    # An untrained classifier says "no rain" everywhere; shift its rain logit by the median
    # margin so that about half the pixels rain, and the rates to be mostly positive, so that
    # the composition is exercised.
    with torch.no_grad():
        tile = torch.as_tensor(x[None, :, -64:, -64:])
        logits = model.classifier(tile).logits
        model.classifier.head.bias[1] -= (logits[:, 1] - logits[:, 0]).median()
        rate = model.regressor(tile).logits
        model.regressor.head.bias += 1.0 - rate.median()


def test_even_layout_covers_every_pixel_with_at_least_the_overlap():
    for length in (256, 257, 300, 511, 700, 2748):
        for tile, overlap in ((256, 28), (256, 32), (64, 16), (32, 0)):
            starts = tile_starts(length, tile, overlap)
            covered = np.zeros(length, bool)
            for s in starts:
                covered[s : s + tile] = True
            assert covered.all() and starts[0] == 0 and starts[-1] == max(0, length - tile)
            assert all(o >= overlap for o in tile_overlaps(starts, tile))
            # the fewest tiles: one fewer cannot keep the overlap
            if len(starts) > 1:
                assert (len(starts) - 2) * (tile - overlap) + tile < length
    assert len(tile_starts(2748, 256, 28)) == 12
    assert len(tile_starts(2748, 256, 32, layout="stride")) == 13


def test_fused_equals_two_pass_on_cpu():
    ir, lat, lon = _scene()
    ir[:, :30, :50] = np.nan
    model = _tiny_pair()
    filled, missing = _fill_missing(ir, "mask")
    x = normalize_ir(filled)
    _balance_rain(model, x)
    settings = InferenceSettings(tile=64, overlap=16, margin=4, batch_size=3)
    _, writer = infer(model, ArraySource(ir, lat, lon), settings=settings)
    fused = writer.dataset[cv.VAR_PRECIP].values

    # the former path: two separate tiled passes of the networks, composed at the end
    with torch.no_grad():
        logits = predict_tiled(lambda b: model.classifier(b).logits, x, 64, 16, 4)
        rate = predict_tiled(lambda b: model.regressor(b).logits, x, 64, 16, 4)
    two_pass = compose_precipitation(logits[None], rate[None])[0, 0].numpy()
    two_pass[missing] = np.nan
    decided = (logits[1] - logits[0]).abs().numpy() > 1e-4  # away from exact rain/no-rain ties
    raining = np.nanmean(two_pass > 0)
    assert 0.2 < raining < 0.8
    np.testing.assert_array_equal(np.isnan(fused), missing)
    np.testing.assert_allclose(fused[decided], two_pass[decided], atol=1e-5, rtol=1e-5)


class _ConvNet(torch.nn.Module):
    """Translation-equivariant stand-in with a 4-pixel reach (two 5 × 5 convolutions)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.a = torch.nn.Conv2d(cv.N_IR, 6, 5, padding=2)
        self.b = torch.nn.Conv2d(6, 1, 5, padding=2)

    def forward(self, x):
        return self.b(torch.tanh(self.a(x)))


@pytest.mark.parametrize("shape", [(150, 170), (64, 200), (40, 90), (40, 200), (180, 50)])
def test_tiled_equals_untiled_away_from_tile_edges(shape):
    ir, lat, lon = _scene(*shape)
    net = _ConvNet().eval()
    settings = InferenceSettings(tile=64, overlap=20, margin=5, batch_size=4)
    _, writer = infer(net, ArraySource(ir, lat, lon), settings=settings)
    tiled = writer.dataset[cv.VAR_PRECIP].values
    with torch.no_grad():
        full = net(torch.as_tensor(normalize_ir(ir))[None])[0, 0].numpy()
    if min(shape) >= 64:
        np.testing.assert_allclose(tiled, full, atol=1e-5, rtol=1e-5)
    else:  # padded up to a tile: equal away from the padded border
        np.testing.assert_allclose(tiled[4:-4, 4:-4], full[4:-4, 4:-4], atol=1e-5, rtol=1e-5)


def test_skipped_tiles_are_exactly_those_without_valid_input():
    ir, lat, lon = _scene(200, 230)
    ir[:, :, :90] = np.nan  # a "space" strip
    ir[3, 150:, 200:] = np.nan  # one channel missing is missing too
    ir[:, 10, 100] = np.nan
    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.extend(torch.isfinite(x).all(dim=(1, 2, 3)).tolist())
            return x[:, :1] * 0 + 1.0

    settings = InferenceSettings(tile=64, overlap=16, margin=4, batch_size=5)
    report, writer = infer(Recorder(), ArraySource(ir, lat, lon), settings=settings)
    valid = np.isfinite(ir).all(axis=0)
    ys, xs = tile_starts(200, 64, 16), tile_starts(230, 64, 16)
    expected_skips = sum(not valid[y : y + 64, x : x + 64].any() for y in ys for x in xs)
    assert expected_skips > 0
    assert report.tiles_skipped == expected_skips
    assert report.tiles_run == len(seen) == len(ys) * len(xs) - expected_skips
    assert all(seen)  # the networks never see NaN
    out = writer.dataset[cv.VAR_PRECIP].values
    np.testing.assert_array_equal(np.isnan(out), ~valid)
    np.testing.assert_allclose(out[valid], 1.0, atol=1e-6)  # blend weights sum to 1


def test_no_valid_pixel_is_refused():
    ir, lat, lon = _scene(80, 80)
    ir[:] = np.nan
    with pytest.raises(ValueError, match="no pixel"):
        infer(_ConvNet(), ArraySource(ir, lat, lon), settings=InferenceSettings(64, 16, 4))


@pytest.mark.parametrize("writer_cls, suffix", [(NetCDFWriter, ".nc"), (ZarrWriter, ".zarr")])
def test_chunk_writers_match_memory_output_and_are_cf(tmp_path, writer_cls, suffix):
    ir, lat, lon = _scene(130, 150)
    ir[:, :20, :20] = np.nan
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    source = ArraySource(ir, lat2, lon2, "2023-07-01T06:00")
    settings = InferenceSettings(tile=64, overlap=16, margin=4)
    attrs = {"title": "test retrieval", "method": "conv"}
    _, memory = infer(_ConvNet(), source, settings=settings, attrs=attrs)
    target = tmp_path / f"out{suffix}"
    report, _ = infer(_ConvNet(), source, writer_cls(target), settings, attrs)
    assert not list(tmp_path.glob(".out*"))  # temporary path renamed away
    opener = xr.open_zarr if suffix == ".zarr" else xr.open_dataset
    with opener(target) as ds:
        np.testing.assert_allclose(
            ds[cv.VAR_PRECIP].values, memory.dataset[cv.VAR_PRECIP].values, equal_nan=True
        )
        np.testing.assert_allclose(ds[cv.VAR_LAT].values, lat2)
        assert ds[cv.VAR_PRECIP].attrs["units"] == cv.UNITS_PRECIP
        assert ds[cv.VAR_TIME].attrs["standard_name"] == "time"
        assert ds[cv.VAR_TIME].values[0] == np.datetime64("2023-07-01T06:00", "ns")
        assert ds.attrs["title"] == "test retrieval"
        assert ds.attrs["Conventions"] == cv.CONVENTIONS_ATTR
        assert int(ds.attrs["tile_size"]) == 64 and int(ds.attrs["tile_overlap_min"]) == 16
        assert int(ds.attrs["tiles_run"]) == report.tiles_run


def test_failed_run_leaves_existing_output_untouched(tmp_path):
    ir, lat, lon = _scene(130, 150)
    target = tmp_path / "out.nc"
    target.write_bytes(b"previous")

    class Broken(torch.nn.Module):
        calls = 0

        def forward(self, x):
            Broken.calls += 1
            if Broken.calls > 2:
                raise RuntimeError("device lost")
            return x[:, :1]

    settings = InferenceSettings(tile=64, overlap=16, margin=4, batch_size=1)
    with pytest.raises(RuntimeError, match="device lost"):
        infer(Broken(), ArraySource(ir, lat, lon), NetCDFWriter(target), settings)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


def test_agri_source_reads_bands_like_the_reader(tmp_path):
    from prelib.readers.agri import read_agri_l1
    from prelib.writers.agri import write_agri_l1

    rng = np.random.default_rng(3)
    bt = {c: rng.uniform(190.0, 300.0, (90, 110)).astype(np.float32) for c in cv.AGRI_IR_CHANNELS}
    bt["C12"][5:9, 7:20] = np.nan
    path = write_agri_l1(
        tmp_path, bt, np.datetime64("2023-07-01T06:00"), begin_line=600, begin_column=1500
    )
    reference = read_agri_l1(path)
    source = AgriL1Source(path)
    assert source.shape == (90, 110)
    np.testing.assert_array_equal(source.read(10, 50), reference[cv.VAR_IR].values[:, 10:50])
    lat, lon = source.latlon(10, 50)
    np.testing.assert_allclose(lat, reference["lat"].values[10:50])
    np.testing.assert_allclose(lon, reference["lon"].values[10:50])
    ir = reference[cv.VAR_IR].values
    medians = [np.median(c[np.isfinite(c)]) for c in ir]
    np.testing.assert_allclose(source.fill_values(), medians, rtol=1e-6)
    assert source.time == reference["time"].values


def test_rows_are_written_while_tiles_are_still_running():
    # Bounded memory: finished rows leave before the last tile runs, in order, in bands.
    ir, lat, lon = _scene(300, 120)
    events = []

    class Logger(torch.nn.Module):
        def forward(self, x):
            events.append(("forward", x.shape[0]))
            return x[:, :1] * 0

    class LogWriter(MemoryWriterForTest):
        def write_rows(self, y0, precip, lat, lon):
            events.append(("write", y0, precip.shape[0]))
            super().write_rows(y0, precip, lat, lon)

    settings = InferenceSettings(tile=64, overlap=16, margin=4, batch_size=2)
    infer(Logger(), ArraySource(ir, lat, lon), LogWriter(), settings)
    writes = [e for e in events if e[0] == "write"]
    last_forward = max(i for i, e in enumerate(events) if e[0] == "forward")
    assert len(writes) >= 3 and events.index(writes[0]) < last_forward
    assert [w[1] for w in writes] == sorted(w[1] for w in writes)
    assert sum(w[2] for w in writes) == 300 and max(w[2] for w in writes) <= 2 * 64
