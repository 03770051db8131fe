"""Configuration of the downscaling experiments (``prelib/profiles/downscaling.yaml``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from prelib.config import Config, load_config, require_choice, require_positive
from prelib.downscaling.bias_model import BiasModel
from prelib.models.diffusion_unet import DiffusionUNetConfig
from prelib.models.edm import EDMConfig
from prelib.models.maunet import MAUNetConfig
from prelib.training.config import TrainingConfig

DATA_SOURCES: tuple[str, ...] = ("synthetic", "mrms")


@dataclasses.dataclass(frozen=True)
class DownscalingConfig(Config):
    """Everything ``prelib downscale`` needs: data, model sizes, training and evaluation.

    Attributes
    ----------
    factor : int
        Coarse-to-fine factor (10: 10 km → 1 km, or 0.1° → 0.01° for MRMS).
    patch : int
        Fine patch side in pixels (multiple of ``factor``).
    n_train, n_test : int
        Synthetic patches for training / testing (MRMS: upper bound per split).
    scene_px : int
        Side of one synthetic scene (cut into patches).
    min_wet_fraction : float
        Patches need at least this fraction of pixels >= 0.1 mm h-1.
    mrms_lat, mrms_lon : (float, float)
        MRMS region in degrees.
    mrms_train_frames, mrms_test_frames : (int, int)
        ``[start, stop)`` frame indices of the time split (2-min frames).
    bias : dict
        :class:`BiasModel` fields overriding its defaults.
    maunet_width, maunet_depth, maunet_dropout, maunet_merge
        Teacher architecture; the student uses ``light_width_mult`` and ``light_taper``
        (see :class:`~prelib.models.maunet.MAUNetConfig`).
    kd_mode, kd_alpha, kd_beta
        Distillation (see :mod:`prelib.models.maunet_light`).
    diffusion_width, diffusion_mult, diffusion_blocks, diffusion_dropout
        PrecipDiff / regression-mean U-Nets.
    teacher_forcing : bool
        Train PrecipDiff's downscaling stage from the max-pooled truth (True) or from the
        corrected product (see :func:`~prelib.training.downscaling.train_precipdiff`).
    maunet_loss : {"mse", "log-mse"}
        MAUNet training loss: MSE of rates (default) or of ``log1p`` rates (see
        :func:`~prelib.training.downscaling.maunet_loss`).
    maunet_output : {"residual", "conservative"}
        See :class:`~prelib.models.maunet.MAUNetConfig` (``conservative`` only when the
        input is the truth's block mean).
    lr_schedule : {"constant", "cosine"}
    calibrate_wet : bool
        Fit PrecipDiff's zero threshold on validation pairs
        (:meth:`~prelib.models.precipdiff.PrecipDiff.calibrate_wet_fraction`).
    n_steps, n_members
        Heun steps and ensemble size.
    epochs_maunet, epochs_student, epochs_diffusion, batch_size, lr, seed
        Training.
    """

    factor: int = 10
    patch: int = 80
    n_train: int = 64
    n_test: int = 16
    scene_px: int = 160
    min_wet_fraction: float = 0.05
    mrms_lat: tuple[float, float] = (40.0, 48.0)
    mrms_lon: tuple[float, float] = (-90.0, -82.0)
    mrms_train_frames: tuple[int, int] = (0, 24)
    mrms_test_frames: tuple[int, int] = (28, 36)
    bias: dict[str, Any] = dataclasses.field(default_factory=dict)
    maunet_width: int = 16
    maunet_depth: int = 3
    maunet_dropout: float = 0.1
    maunet_merge: str = "mean"
    light_width_mult: float = 0.85
    light_taper: float = 0.3
    kd_mode: str = "standard"
    kd_alpha: float = 0.5
    kd_beta: float = 0.1
    diffusion_width: int = 16
    diffusion_mult: tuple[int, ...] = (1, 2, 2)
    diffusion_blocks: int = 1
    diffusion_dropout: float = 0.0
    teacher_forcing: bool = True
    maunet_loss: str = "mse"
    maunet_output: str = "residual"
    lr_schedule: str = "cosine"
    calibrate_wet: bool = True
    n_steps: int = 18
    n_members: int = 8
    epochs_maunet: int = 10
    epochs_student: int = 10
    epochs_diffusion: int = 10
    batch_size: int = 8
    lr: float = 1e-3
    seed: int = 0

    def validate(self) -> None:
        require_positive(self, "factor", "patch", "n_train", "n_test", "scene_px", "n_members")
        require_positive(self, "epochs_maunet", "epochs_student", "epochs_diffusion")
        require_positive(self, "batch_size", "lr", "n_steps", "maunet_width", "diffusion_width")
        require_choice(self, "kd_mode", ("standard", "refine"))
        require_choice(self, "maunet_loss", ("mse", "log-mse"))
        require_choice(self, "maunet_output", ("residual", "conservative"))
        require_choice(self, "lr_schedule", ("constant", "cosine"))
        if self.patch % self.factor or self.scene_px % self.patch:
            raise ValueError(
                f"DownscalingConfig.patch ({self.patch}) must be a multiple of factor "
                f"({self.factor}) and divide scene_px ({self.scene_px})"
            )
        if not 0 < self.light_width_mult < 1:
            raise ValueError(
                f"DownscalingConfig.light_width_mult must be in (0, 1), got {self.light_width_mult}"
            )
        self.bias_model()  # validates the bias fields

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DownscalingConfig:
        """Build from YAML values (lists become tuples)."""
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return super().from_dict(values)

    def bias_model(self) -> BiasModel:
        """The :class:`BiasModel` with this config's overrides."""
        bias = {k: tuple(v) if isinstance(v, list) else v for k, v in self.bias.items()}
        return BiasModel.from_dict(bias)

    def maunet_config(self, light: bool = False) -> MAUNetConfig:
        """Teacher (or student) architecture for downscaling by ``factor``."""
        return MAUNetConfig(
            base_width=self.maunet_width,
            depth=self.maunet_depth,
            factor=self.factor,
            dropout=self.maunet_dropout,
            merge=self.maunet_merge,
            width_mult=self.light_width_mult if light else 1.0,
            taper=self.light_taper if light else 1.0,
            output=self.maunet_output,
        )

    def unet_config(self) -> DiffusionUNetConfig:
        """U-Net of the PrecipDiff stages and of the regression mean."""
        return DiffusionUNetConfig(
            base_width=self.diffusion_width,
            channel_mult=self.diffusion_mult,
            blocks_per_level=self.diffusion_blocks,
            dropout=self.diffusion_dropout,
        )

    def edm_config(self) -> EDMConfig:
        """EDM constants (Karras et al. defaults) with this config's step count."""
        return EDMConfig(n_steps=self.n_steps)

    def training_config(self, network: str) -> TrainingConfig:
        """The :class:`~prelib.training.trainer.Trainer` settings of one kind of network.

        Adam (no weight decay) at ``lr`` with ``batch_size``, no gradient clipping, full
        precision on the CPU, the best epoch selected by the validation RMSE of rates.
        ``network`` picks the epochs: ``"maunet"`` (``epochs_maunet``), ``"student"``
        (``epochs_student``) or ``"diffusion"`` (``epochs_diffusion``, both stages). The
        learning rate schedule (``lr_schedule``) is given to the training functions of
        :mod:`prelib.training.downscaling`; the step schedule here stays constant.
        """
        epochs = {
            "maunet": self.epochs_maunet,
            "student": self.epochs_student,
            "diffusion": self.epochs_diffusion,
        }
        if network not in epochs:
            raise ValueError(f"network must be one of {list(epochs)}, got {network!r}")
        return TrainingConfig(
            epochs=epochs[network],
            optimizer="adam",
            lr=self.lr,
            weight_decay=0.0,
            lr_step_size=1,
            lr_gamma=1.0,
            grad_clip=0.0,
            val_every=1,
            best_metric="val_rate_rmse",
            best_mode="min",
            seed=self.seed,
            device="cpu",
            amp="off",
            batch_size=self.batch_size,
            num_workers=0,
        )


def load_downscaling_config(profile: str, **overrides: Any) -> DownscalingConfig:
    """The ``downscaling`` section of ``profile`` with ``overrides``."""
    return load_config("downscaling", profile, DownscalingConfig, **overrides)
