"""ONNX export of the composed retrieval: ONNX Runtime on CPU matches torch to 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prelib.config import resolve
from prelib.inference.composition import TwoNetworkRetrieval
from prelib.inference.export import export_onnx
from prelib.models import apply_lora, get_model
from prelib.models.lora import lora_modules


def _adapted(n_classes: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = get_model("prenet", resolve("tiny").models, n_classes=n_classes, n_splits=1)
    apply_lora(model)
    with torch.no_grad():
        for module in lora_modules(model):
            module.lora_B.normal_(0.0, 0.2)
    return model.eval()


@pytest.mark.slow
def test_onnx_export_matches_torch(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    retrieval = TwoNetworkRetrieval(_adapted(2, 0), _adapted(1, 1))
    x = torch.rand(3, 8, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():  # about half the pixels raining, rates positive: a non-trivial output
        raw = retrieval.raw(x)
        retrieval.classifier.head.bias[1] -= raw[:, 0].median()
        retrieval.regressor.head.bias += 1.0 - raw[:, 1].median()
        raw = retrieval.raw(x)
        expected = retrieval(x).numpy()
    path = export_onnx(retrieval, tmp_path / "prenet.onnx", tile=64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"ir": x.numpy()})[0]
    assert got.shape == (3, 1, 64, 64)
    assert 0.2 < (expected > 0).mean() < 0.8
    decided = raw[:, :1].abs().numpy() > 1e-3  # away from exact rain/no-rain ties
    np.testing.assert_allclose(got[decided], expected[decided], atol=1e-4, rtol=1e-4)
    # a different batch size runs through the same graph
    one = session.run(None, {"ir": x[:1].numpy()})[0]
    np.testing.assert_allclose(one, got[:1], atol=1e-5)


@pytest.mark.slow
def test_export_command_writes_a_runnable_graph(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from prelib.cli import main
    from prelib.config import resolve
    from prelib.training.checkpoint import make_header, save_checkpoint
    from prelib.training.stages import build_distillation, train_full_disc_adaptation

    cfg = resolve("tiny")
    for task in ("cls", "reg"):
        pair = build_distillation(cfg.models, task, "comwe")
        header = make_header(f"student:comwe:{task}", "tiny", {}, epoch=1)
        save_checkpoint(tmp_path / f"s1-{task}.pt", {"header": header, "model": pair.state_dict()})
        train_full_disc_adaptation(
            None,
            None,
            tmp_path / task,
            tmp_path / f"s1-{task}.pt",
            cfg.models,
            task=task,
            variant="comwe_noadapt",
            config=cfg.training.adapt,
        )
    out = tmp_path / "retrieval.onnx"
    args = ["export", "--format", "onnx", "--profile", "tiny", "--variant", "comwe_noadapt"]
    args += ["--cls-checkpoint", str(tmp_path / "cls" / "last.pt")]
    args += ["--reg-checkpoint", str(tmp_path / "reg" / "last.pt")]
    assert main([*args, "--tile", "32", "--output", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    precip = session.run(None, {"ir": np.random.default_rng(0).random((2, 8, 32, 32), "f4")})[0]
    assert precip.shape == (2, 1, 32, 32) and np.isfinite(precip).all() and (precip >= 0).all()
