"""One layout for a run's artefacts, shared by the pipeline, the CLI, the catalogs and notebooks.

A run lives in one folder, by default ``PRELIB_OUTPUT_DIR/<profile>`` (``outputs/<profile>``)::

    <run>/
      models/
        teacher[-<modalities>]/<task>/   Stage 0 (last.pt, best.pt, metrics.csv, run_key.json)
        student-<distiller>/<task>/      Stage I (none = the IR-only UNet, kd, mgd, mkd, rmkd,
                                         comwe = PRE-Net)
        adapted-<variant>/<task>/        Stage II (scratch, kd_nonmask, comwe_noadapt, nonmask,
                                         randmask, selfmask)
        fulldisc-unet/<task>/            the UNet trained on Full-IPR only (Table 5)
      inference/                         prelib infer's NetCDF files
      <NN_notebook>/                     each notebook's executed copy, metrics.json, figures
      summary.json                       the pipeline's record

Benchmark stores are not per run: they live in the data folder (``PRELIB_DATA_DIR``, default
``./data``) at ``synthetic/<profile>/seed<seed>/<kind>_<split>.zarr``, where ``prelib simulate
build``, ``prelib train --data auto`` and ``catalogs/synthetic.yaml`` look for them; the same
seed gives the same bytes, so runs share them. ``<task>`` is ``reg`` or ``cls``.

A *keyed* layout (``RunLayout(root, keyed=True)``) names every training run folder
``<task>-<config hash>`` instead of ``<task>``, so that runs of different configurations (a study
of recipe settings) live side by side in one run, while a run whose configuration does not change
(e.g. the teacher of every Stage-I setting) is one folder shared by all of them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prelib import paths
from prelib.config import RunConfig, deprecated_profile_name

CHECKPOINTS: tuple[str, ...] = ("best.pt", "last.pt")
"""Checkpoint files of a training run folder."""


@dataclasses.dataclass(frozen=True)
class RunLayout:
    """Paths of one run's artefacts (see the module docstring).

    Parameters
    ----------
    root : path-like
        The run folder (``outputs/<profile>``).
    data_root : path-like, optional
        The data folder with the benchmark stores; default :func:`prelib.paths.data_dir`
        (``PRELIB_DATA_DIR`` or ``./data``).
    keyed : bool
        Training run folders carry the hash of their configuration (see the module docstring).
    """

    root: Path
    data_root: Path | None = None
    keyed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        if self.data_root is not None:
            object.__setattr__(self, "data_root", Path(self.data_root))

    @classmethod
    def for_run(cls, cfg: RunConfig, data_root: str | Path | None = None) -> RunLayout:
        """The default folder of the run ``cfg``: ``PRELIB_OUTPUT_DIR/<profile>``."""
        return cls(paths.profile_output_dir(cfg.profile), data_root)

    @classmethod
    def for_profile(cls, profile: str, data_root: str | Path | None = None) -> RunLayout:
        """Deprecated: :meth:`for_run` of the resolved configuration."""
        deprecated_profile_name(profile, "RunLayout.for_profile(...)", "RunLayout.for_run(cfg)")
        return cls(paths.profile_output_dir(profile), data_root)

    # -- data ------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The data folder holding the benchmark stores."""
        return self.data_root if self.data_root is not None else paths.data_dir()

    def benchmark(
        self, kind: str, split: str, cfg: RunConfig | str, seed: int | None = None
    ) -> Path:
        """``<data>/synthetic/<profile>/seed<data.seed>/<kind>_<split>.zarr`` of the run ``cfg``
        (another benchmark ``seed`` when given; a profile name is deprecated)."""
        from prelib.data.store import benchmark_path

        return benchmark_path(kind, split, cfg, seed, root=self.data_dir)

    # -- trained networks --------------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    def teacher_dir(self, task: str, modalities: tuple[str, ...] | None = None) -> Path:
        """Stage 0 run folder; a modality subset gets its own (``teacher-ir+pmw``)."""
        name = "teacher" if modalities is None else "teacher-" + "+".join(modalities)
        return self.models_dir / name / task

    def student_dir(self, distiller: str, task: str, variant: str = "") -> Path:
        """Stage I run folder of ``distiller`` (``variant``: e.g. ``dawe_mode=off`` ablations)."""
        suffix = f"-{variant}" if variant else ""
        return self.models_dir / f"student-{distiller}{suffix}" / task

    def adapted_dir(self, variant: str, task: str) -> Path:
        """Stage II run folder of ``variant``."""
        return self.models_dir / f"adapted-{variant}" / task

    def light_dir(self, task: str, teacher_variant: str = "selfmask") -> Path:
        """Run folder of PRE-Net-Light distilled from the ``teacher_variant`` PRE-Net."""
        return self.models_dir / f"prenet-light-{teacher_variant}" / task

    def fulldisc_unet_dir(self, task: str) -> Path:
        """Run folder of the UNet trained on Full-IPR only."""
        return self.models_dir / "fulldisc-unet" / task

    def keyed_dir(self, run_dir: str | Path, key: str) -> Path:
        """``run_dir`` of a run whose configuration hash is ``key``: ``<task>-<key>`` in a keyed
        layout, ``run_dir`` itself otherwise."""
        run_dir = Path(run_dir)
        return run_dir.with_name(f"{run_dir.name}-{key}") if self.keyed else run_dir

    # -- other outputs -------------------------------------------------------------------------
    def notebook_dir(self, name: str) -> Path:
        """A notebook's own output folder (executed copy, metrics.json, figures)."""
        return self.root / name

    @property
    def inference_dir(self) -> Path:
        return self.root / "inference"

    @property
    def summary_path(self) -> Path:
        return self.root / "summary.json"


def find_checkpoint(run_dir: str | Path, prefer: str = "best") -> Path:
    """``best.pt`` (or ``last.pt`` with ``prefer="last"``) of a run folder, else the other one.

    Raises
    ------
    FileNotFoundError
        Neither file exists; the message names the folder.
    """
    if prefer not in ("best", "last"):
        raise ValueError(f"prefer must be 'best' or 'last', got {prefer!r}")
    run_dir = Path(run_dir)
    order = CHECKPOINTS if prefer == "best" else CHECKPOINTS[::-1]
    for name in order:
        if (run_dir / name).is_file():
            return run_dir / name
    raise FileNotFoundError(f"no checkpoint (best.pt or last.pt) in {run_dir}")
