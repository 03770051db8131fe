"""Networks of PRE-Net (Wang et al., KDD 2025): the multimodal teacher, the PRE-Net student, the
plain UNet, LoRA adapters and the distillation methods — built by name from profiles.

Entry points::

    from prelib.config import resolve
    from prelib.models import get_model, get_distiller, get_student
    cfg = resolve("demo")
    teacher = get_model("teacher", cfg.models.teacher)  # TeacherOutput(logits, features)
    student = get_student("comwe", cfg.models)  # PRE-Net: StudentOutput(logits, features,
                                                #   reconstructions, self_consistency)
    distiller = get_distiller("comwe", cfg.models)  # .loss(student_out, teacher_out) -> dict

Stage II (Full-Disc Adaptation) helpers: :func:`apply_lora`, :func:`freeze_for_adaptation`,
``PRENet.set_num_splits(1)``, ``PRENet.reset_decoder()``; the Stage-I encoder alone is
``net.encoder.state_dict()``.
"""

from prelib.models.config import (
    DistillConfig,
    LoRAConfig,
    ModelConfigs,
    PRENetConfig,
    TeacherConfig,
    UNetConfig,
    load_model_config,
    load_model_configs,
)
from prelib.models.lora import (
    apply_lora,
    freeze_for_adaptation,
    lora_parameters,
    merge_lora,
    unmerge_lora,
)
from prelib.models.masking import base_grid_shape, random_base_mask
from prelib.models.outputs import StudentOutput, TeacherOutput
from prelib.models.prenet import PRENet
from prelib.models.registry import (
    DISTILLER_NAMES,
    MODEL_NAMES,
    get_distiller,
    get_model,
    get_student,
)
from prelib.models.teacher import Teacher
from prelib.models.unet import UNet

__all__ = [
    "DISTILLER_NAMES",
    "MODEL_NAMES",
    "DistillConfig",
    "LoRAConfig",
    "ModelConfigs",
    "PRENet",
    "PRENetConfig",
    "StudentOutput",
    "Teacher",
    "TeacherConfig",
    "TeacherOutput",
    "UNet",
    "UNetConfig",
    "apply_lora",
    "base_grid_shape",
    "freeze_for_adaptation",
    "get_distiller",
    "get_model",
    "get_student",
    "load_model_config",
    "load_model_configs",
    "lora_parameters",
    "merge_lora",
    "random_base_mask",
    "unmerge_lora",
]
