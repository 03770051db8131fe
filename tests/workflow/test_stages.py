"""ensure_*: load a finished run, resume an interrupted one, train a missing one — keyed by the
configuration, seeded once per run, with the resolved configuration in every checkpoint."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from prelib.config import resolve
from prelib.training.checkpoint import load_checkpoint, make_header, save_checkpoint
from prelib.workflow import (
    RunLayout,
    ensure_adapted,
    ensure_light,
    ensure_student,
    ensure_teacher,
    run_folder,
)
from prelib.workflow.networks import checkpoint_models, load_teacher

SIZE = 32


class FixedSwaths(Dataset):
    """Four fixed multimodal samples in the batch layout of prelib.data."""

    def __init__(self, n: int = 4) -> None:
        gen = torch.Generator().manual_seed(0)
        self.ir = torch.rand(n, 8, SIZE, SIZE, generator=gen)
        self.pmw = torch.rand(n, 13, SIZE, SIZE, generator=gen)
        self.pr = torch.rand(n, 176, SIZE, SIZE, generator=gen)
        self.geo = torch.rand(n, 3, SIZE, SIZE, generator=gen)
        self.precip = 4.0 * torch.relu(0.6 - self.ir[:, 5])

    def __len__(self) -> int:
        return len(self.ir)

    def __getitem__(self, i: int) -> dict:
        precip = self.precip[i]
        return {
            "ir": self.ir[i],
            "pmw": self.pmw[i],
            "pr": self.pr[i],
            "geo": self.geo[i],
            "precip": precip,
            "valid": torch.ones_like(precip, dtype=torch.bool),
            "rain": (precip >= 0.1).long(),
            "index": i,
        }


class Fixed:
    """A stage data provider: the same four samples for every kind."""

    def __init__(self) -> None:
        self.calls = 0

    def loaders(self, kind, config):
        self.calls += 1
        return DataLoader(FixedSwaths(), batch_size=2, shuffle=True), DataLoader(FixedSwaths())


def _cfg(**training):
    return resolve("tiny", device="cpu", training={"epochs": 1, "optimizer": "adam", **training})


def test_teacher_is_trained_once_then_loaded(tmp_path):
    cfg, layout, data = _cfg(), RunLayout(tmp_path), Fixed()
    first = ensure_teacher(cfg, layout, "reg", data=data)
    assert first.trained and len(first.history) == 1 and data.calls == 1
    again = ensure_teacher(cfg, layout, "reg", data=data)
    assert not again.trained and data.calls == 1  # loaded: no data asked for
    for name, tensor in first.network.state_dict().items():
        assert torch.equal(tensor, again.network.state_dict()[name]), name
    assert not any(p.requires_grad for p in again.network.parameters())


def test_another_configuration_in_the_same_folder_is_refused(tmp_path):
    layout, data = RunLayout(tmp_path), Fixed()
    ensure_teacher(_cfg(), layout, "reg", data=data)
    with pytest.raises(ValueError, match="another configuration"):
        ensure_teacher(_cfg(lr=0.123), layout, "reg", data=data)


def test_more_epochs_resume_the_run(tmp_path):
    layout, data = RunLayout(tmp_path), Fixed()
    ensure_teacher(_cfg(), layout, "cls", data=data)
    longer = ensure_teacher(_cfg(epochs=2), layout, "cls", data=data)  # epochs: not in the key
    assert longer.trained and [row["epoch"] for row in longer.history] == [1, 2]


def test_a_run_seeds_itself_once(tmp_path):
    """The same configuration gives the same weights whatever the global RNG state before."""
    cfg = _cfg()
    torch.manual_seed(1)
    a = ensure_teacher(cfg, RunLayout(tmp_path / "a"), "reg", data=Fixed()).network
    torch.manual_seed(99)
    torch.rand(1000)
    b = ensure_teacher(cfg, RunLayout(tmp_path / "b"), "reg", data=Fixed()).network
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name]), name


def test_checkpoints_store_the_resolved_configuration(tmp_path):
    cfg, layout = _cfg(), RunLayout(tmp_path)
    run = ensure_teacher(cfg, layout, "reg", ("ir", "pmw"), data=Fixed())
    header = load_checkpoint(run.checkpoint)["header"]
    assert header["run_config"]["models"]["teacher"]["base_width"] == cfg.models.teacher.base_width
    assert checkpoint_models(run.checkpoint) == cfg.models
    rebuilt = load_teacher(run.checkpoint, task="reg")  # modalities and widths from the file
    assert rebuilt.inputs == run.network.inputs
    old = tmp_path / "old.pt"
    save_checkpoint(old, {"header": make_header("teacher:reg:ir", "tiny", {}, 1), "model": {}})
    with pytest.raises(ValueError, match="stores no run configuration"):
        checkpoint_models(old)


def test_adaptation_ensures_its_chain(tmp_path):
    cfg, layout, data = _cfg(max_steps_per_epoch=1), RunLayout(tmp_path), Fixed()
    adapted = ensure_adapted(cfg, layout, "comwe_noadapt", "reg", data=data)
    assert (layout.teacher_dir("reg") / "last.pt").is_file()
    assert (layout.student_dir("comwe", "reg") / "last.pt").is_file()
    assert adapted.history == [] and adapted.checkpoint.parent == layout.adapted_dir(
        "comwe_noadapt", "reg"
    )
    student = ensure_student(cfg, layout, "comwe", "reg", data=data)
    assert not student.trained
    with pytest.raises(ValueError, match="variant"):
        ensure_adapted(cfg, layout, "fancy", "reg", data=data)


def test_a_keyed_layout_keeps_configurations_apart_and_shares_the_rest(tmp_path):
    """Distiller settings are configuration: in a keyed layout each gets its own Stage-I folder
    (named by its hash, known before training), while the unchanged teacher is trained once."""
    layout, data = RunLayout(tmp_path, keyed=True), Fixed()
    paper = _cfg(max_steps_per_epoch=1)
    code = resolve(
        "tiny",
        device="cpu",
        models={"distill": {"weighting": "code"}},
        training={"epochs": 1, "optimizer": "adam", "max_steps_per_epoch": 1},
    )
    planned = {
        name: run_folder(cfg, layout, "student", "reg", "comwe")
        for name, cfg in (("paper", paper), ("code", code))
    }
    assert planned["paper"] != planned["code"]
    assert run_folder(paper, layout, "teacher", "reg") == run_folder(code, layout, "teacher", "reg")
    assert not any(tmp_path.rglob("*.pt"))  # planning trains nothing
    a = ensure_student(paper, layout, "comwe", "reg", data=data)
    calls = data.calls  # the teacher and the paper student
    b = ensure_student(code, layout, "comwe", "reg", data=data)
    assert data.calls == calls + 1  # only the second student: the teacher is shared
    assert (a.run_dir, b.run_dir) == (planned["paper"], planned["code"])
    assert a.run_dir.parent == layout.student_dir("comwe", "reg").parent
    assert a.run_dir.name == f"reg-{a.key}" and b.key != a.key
    teachers = sorted(p.parent for p in (tmp_path / "models").rglob("teacher/*/last.pt"))
    assert teachers == [run_folder(paper, layout, "teacher", "reg")]
    adapted = run_folder(code, layout, "adapted", "reg", "selfmask")
    assert adapted != run_folder(paper, layout, "adapted", "reg", "selfmask")
    with pytest.raises(ValueError, match="stage must be"):
        run_folder(paper, layout, "nope", "reg")


def test_light_is_distilled_once_then_loaded_and_resumed(tmp_path):
    cfg, layout, data = _cfg(max_steps_per_epoch=1), RunLayout(tmp_path), Fixed()
    first = ensure_light(cfg, layout, "cls", teacher_variant="comwe_noadapt", data=data)
    assert first.trained and len(first.history) == 1
    assert first.run_dir == layout.light_dir("cls", "comwe_noadapt")
    assert (layout.adapted_dir("comwe_noadapt", "cls") / "last.pt").is_file()
    assert first.network.config.n_classes == 2
    calls = data.calls
    again = ensure_light(cfg, layout, "cls", teacher_variant="comwe_noadapt", data=data)
    assert not again.trained and data.calls == calls  # loaded: no data asked for
    for name, tensor in first.network.state_dict().items():
        assert torch.equal(tensor, again.network.state_dict()[name]), name
    longer = ensure_light(
        cfg, layout, "cls", teacher_variant="comwe_noadapt", data=data, training={"epochs": 2}
    )
    assert longer.trained and [row["epoch"] for row in longer.history] == [1, 2]
    with pytest.raises(ValueError, match="another configuration"):
        ensure_light(
            cfg, layout, "cls", teacher_variant="comwe_noadapt", data=data, training={"lr": 0.5}
        )


def test_light_recipes_live_side_by_side_in_a_keyed_layout(tmp_path):
    layout, data = RunLayout(tmp_path, keyed=True), Fixed()
    balanced = _cfg(max_steps_per_epoch=1)  # the profile's recipe: gradnorm balance
    assert balanced.models.light_distill.weighting == "gradnorm"
    fixed = balanced.replace(
        models=balanced.models.replace(
            light_distill=balanced.models.light_distill.replace(weighting="fixed")
        )
    )
    runs = [
        ensure_light(cfg, layout, "cls", teacher_variant="comwe_noadapt", data=data)
        for cfg in (fixed, balanced)
    ]
    assert all(run.trained for run in runs)
    assert runs[0].run_dir != runs[1].run_dir
    assert {run.run_dir.parent for run in runs} == {layout.light_dir("cls", "comwe_noadapt").parent}
    # the one teacher chain is shared: the second recipe only trained Light
    assert len(list(layout.adapted_dir("comwe_noadapt", "cls").parent.iterdir())) == 1
    assert "train_balance_response" in runs[1].history[0]
    again = ensure_light(fixed, layout, "cls", teacher_variant="comwe_noadapt", data=data)
    assert not again.trained and again.run_dir == runs[0].run_dir
