"""The papermill pipeline runner on small generated notebooks (independent of the real ones)."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from prelib.pipeline.runner import PipelineError, curate_figures, plan_pipeline, run_pipeline

pytestmark = pytest.mark.notebooks


def _notebook(path, parameters: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), cell, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


STANDARD = 'profile = "tiny"\nseed = 0\ndevice = "cpu"\noutput_dir = "out"\n'


@pytest.fixture
def toy_pipeline(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _notebook(
        nbdir / "00_make.ipynb",
        STANDARD,
        "from pathlib import Path\n"
        "from prelib.notebook import record_metrics, save_figure\n"
        "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
        "Path(output_dir, 'artefact.txt').write_text(str(seed * 2))\n"
        "fig = plt.figure(); save_figure(fig, output_dir, 'fig_a')\n"
        "record_metrics(output_dir, doubled=seed * 2, profile_name=profile)\n",
    )
    _notebook(
        nbdir / "01_use.ipynb",
        STANDARD + 'artefact = "missing"\n',
        "from pathlib import Path\n"
        "from prelib.notebook import record_metrics\n"
        "record_metrics(output_dir, read=int(Path(artefact).read_text()) + 1)\n",
    )
    (nbdir / "run_order.yaml").write_text(
        "notebooks:\n"
        "  - name: 00_make\n    purpose: makes an artefact\n    figures: [fig_a]\n"
        "  - name: 01_use\n    purpose: uses it\n    inputs: {artefact: 00_make/artefact.txt}\n"
    )
    return nbdir


def test_pipeline_passes_artefacts_and_records_summary(toy_pipeline, tmp_path):
    out = tmp_path / "outputs"
    summary = run_pipeline(
        "tiny", output_root=out, seed=3, device="cpu", directory=toy_pipeline, log=lambda _: None
    )
    assert summary["status"] == "ok"
    assert summary["notebooks"]["00_make"]["metrics"] == {"doubled": 6, "profile_name": "tiny"}
    assert summary["notebooks"]["01_use"]["metrics"] == {"read": 7}
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["notebooks"]["01_use"]["seconds"] >= 0
    assert (out / "01_use" / "01_use.ipynb").is_file()
    figures = curate_figures(
        "tiny", output_root=out, figures_dir=tmp_path / "figs", directory=toy_pipeline
    )
    assert [p.name for p in figures] == ["fig_a.png"]


def test_pipeline_logs_every_cell_and_kernels_start_quietly(toy_pipeline, tmp_path, capfd):
    lines = []
    run_pipeline("tiny", output_root=tmp_path / "o", directory=toy_pipeline, log=lines.append)
    # papermill injects a parameters cell: 4 cells per toy notebook, each logged as it ends
    for name in ("00_make", "01_use"):
        cells = [line for line in lines if line.startswith(f"[tiny] {name}: cell ")]
        assert [c.split("cell ")[1].split(" ")[0] for c in cells][-1] == "4/4", lines
        assert len(cells) >= 4
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out


def test_pipeline_stops_at_failure_showing_the_cell(toy_pipeline, tmp_path):
    out = tmp_path / "outputs"
    with pytest.raises(PipelineError, match=r"(?s)01_use failed in cell .*FileNotFoundError"):
        run_pipeline(
            "tiny", only=["01_use"], output_root=out, directory=toy_pipeline, log=lambda _: None
        )
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "huge"}, "unknown profile"),
        ({"profile": "tiny", "only": ["99_nothing"]}, "unknown notebook"),
        ({"profile": "tiny", "overrides": {"not_a_param": 1}}, "match no parameter"),
        ({"profile": "tiny", "overrides": {"artefact": "/no/such/file"}}, "does not exist"),
    ],
)
def test_bad_requests_fail_before_any_work(toy_pipeline, tmp_path, kwargs, message):
    with pytest.raises(PipelineError, match=message):
        plan_pipeline(output_root=tmp_path / "o", directory=toy_pipeline, **kwargs)
    assert not (tmp_path / "o").exists()


def test_run_and_data_folders_are_injected_where_declared(toy_pipeline, tmp_path):
    """Notebooks that declare ``run_dir`` / ``data_dir`` get the run folder (the output root)
    and the data folder; the others are left alone; the run's configuration is recorded."""
    _notebook(
        toy_pipeline / "02_run.ipynb",
        STANDARD + 'run_dir = "unset"\ndata_dir = "unset"\n',
        "from prelib.notebook import record_metrics\n"
        "record_metrics(output_dir, run_dir=run_dir, data_dir=data_dir)\n",
    )
    order = (toy_pipeline / "run_order.yaml").read_text()
    (toy_pipeline / "run_order.yaml").write_text(order + "  - name: 02_run\n    purpose: run\n")
    root, data = tmp_path / "run", tmp_path / "data"
    planned = dict(
        (step.name, params)
        for step, params in plan_pipeline(
            "tiny", output_root=root, directory=toy_pipeline, data_root=data
        )
    )
    assert "run_dir" not in planned["00_make"]
    assert planned["02_run"]["run_dir"] == str(root.resolve())
    assert planned["02_run"]["data_dir"] == str(data.resolve())
    summary = run_pipeline(
        "tiny",
        only=["02_run"],
        output_root=root,
        directory=toy_pipeline,
        log=lambda _: None,
        data_root=data,
    )
    assert summary["notebooks"]["02_run"]["metrics"]["data_dir"] == str(data.resolve())
    recorded = json.loads((root / "run_config.json").read_text())
    assert recorded["profile"] == "tiny" and recorded["models"]["prenet"]["base_width"] >= 1


def _timed_notebook(path, seconds: float = 2.0, fail: bool = False) -> None:
    body = (
        "import os, time\n"
        "from prelib.notebook import record_metrics\n"
        "start = time.time()\n"
        f"time.sleep({seconds})\n"
        + ("raise RuntimeError('broken on purpose')\n" if fail else "")
        + "threads = os.environ.get('PRELIB_THREADS', 'unset')\n"
        + "record_metrics(output_dir, start=start, end=time.time(), threads=threads)\n"
    )
    _notebook(path, STANDARD, body)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _independent_pipeline(nbdir, fail_first: bool = False) -> None:
    """``a`` and ``b`` need nothing; ``c`` needs both."""
    nbdir.mkdir()
    _timed_notebook(nbdir / "a.ipynb", fail=fail_first)
    _timed_notebook(nbdir / "b.ipynb")
    _timed_notebook(nbdir / "c.ipynb", seconds=0.1)
    (nbdir / "run_order.yaml").write_text(
        "notebooks:\n"
        "  - name: a\n    needs: []\n"
        "  - name: b\n    needs: []\n"
        "  - name: c\n    needs: [a, b]\n"
    )


@pytest.mark.slow  # six kernel starts
def test_notebooks_whose_needs_are_met_run_at_the_same_time(tmp_path):
    nbdir = tmp_path / "notebooks"
    _independent_pipeline(nbdir)
    summary = run_pipeline(
        "tiny", output_root=tmp_path / "o", directory=nbdir, log=lambda _: None, jobs=2
    )
    assert list(summary["notebooks"]) == ["a", "b", "c"]  # run order, whatever finished first
    times = {name: record["metrics"] for name, record in summary["notebooks"].items()}
    assert times["b"]["start"] < times["a"]["end"] and times["a"]["start"] < times["b"]["end"]
    assert times["c"]["start"] >= max(times["a"]["end"], times["b"]["end"])  # what it needs
    if "PRELIB_THREADS" not in os.environ:  # the cores are shared by the kernels running at once
        assert times["a"]["threads"] == times["b"]["threads"] == str(max(1, _cores() // 2))
        assert times["c"]["threads"] == "unset"  # started alone: every core, torch's default
    sequential = run_pipeline(  # one at a time, in the calling thread
        "tiny", output_root=tmp_path / "s", directory=nbdir, log=lambda _: None, jobs=1
    )
    seq = {name: record["metrics"] for name, record in sequential["notebooks"].items()}
    assert seq["b"]["start"] >= seq["a"]["end"] and seq["c"]["start"] >= seq["b"]["end"]


def test_a_failure_stops_new_notebooks_while_others_finish(tmp_path):
    nbdir = tmp_path / "notebooks"
    _independent_pipeline(nbdir, fail_first=True)
    with pytest.raises(PipelineError, match=r"(?s)a failed in cell .*broken on purpose"):
        run_pipeline(
            "tiny", output_root=tmp_path / "o", directory=nbdir, log=lambda _: None, jobs=2
        )
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert summary["notebooks"]["a"]["status"] == "failed"
    assert summary["notebooks"]["b"]["status"] == "ok"  # was running: it finished
    assert "c" not in summary["notebooks"]  # needs the failed one: never started


def test_needs_must_name_earlier_notebooks(tmp_path):
    nbdir = tmp_path / "notebooks"
    _independent_pipeline(nbdir)
    order = (nbdir / "run_order.yaml").read_text().replace("needs: [a, b]", "needs: [zz]")
    (nbdir / "run_order.yaml").write_text(order)
    with pytest.raises(PipelineError, match="needs 'zz'"):
        plan_pipeline("tiny", output_root=tmp_path / "o", directory=nbdir)
    with pytest.raises(PipelineError, match="jobs"):
        run_pipeline("tiny", output_root=tmp_path / "o", directory=nbdir, jobs=0)
