"""Model profiles load and validate."""

from __future__ import annotations

import pytest

from prelib.models import get_model, load_model_config
from prelib.models.config import CONFIG_CLASSES


@pytest.mark.parametrize("profile", ["tiny", "demo", "paper"])
@pytest.mark.parametrize("section", sorted(CONFIG_CLASSES))
def test_every_profile_section_loads(section, profile):
    cfg = load_model_config(section, profile)
    assert isinstance(cfg, CONFIG_CLASSES[section])


def test_widths_scale_down_with_profile():
    widths = [load_model_config("prenet", p).base_width for p in ("tiny", "demo", "paper")]
    assert widths == sorted(widths) and widths[-1] == 64
    assert load_model_config("prenet", "paper").rmkd_levels == (1, 2)


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("prenet", "dawe_mode", "always"),
        ("prenet", "mask_ratio", 1.5),
        ("prenet", "ae_heads", 5),
        ("prenet", "n_classes", 3),
        ("teacher", "modalities", ["ir", "radar"]),
        ("lora", "freeze", "all"),
        ("distill", "weighting", "mixed"),
        ("distill", "level_weights", [1.0, 2.0]),
    ],
)
def test_invalid_values_name_the_field(section, field, value):
    with pytest.raises(ValueError, match=field):
        load_model_config(section, "tiny", **{field: value})


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="unknown model"):
        get_model("resnet")
    with pytest.raises(ValueError, match="unknown field"):
        load_model_config("prenet", "tiny", widths=3)
    with pytest.raises(ValueError, match="unknown model config"):
        load_model_config("vae", "tiny")


def test_builders_take_config_objects_and_profile_names_are_deprecated():
    from prelib.models import get_distiller, get_student
    from prelib.models.config import ModelConfigs, load_model_configs

    tiny = load_model_configs("tiny")
    net = get_model("prenet", tiny.prenet, n_classes=2)
    assert net.config == tiny.prenet.replace(n_classes=2)
    assert get_model("prenet", tiny).config == tiny.prenet  # the section is picked by name
    with pytest.raises(ValueError, match="PRENetConfig"):
        get_model("prenet", tiny.teacher)
    with pytest.warns(DeprecationWarning, match="resolve"):
        old = get_model("prenet", "tiny", n_classes=2)
    assert old.config == net.config
    with pytest.warns(DeprecationWarning):
        assert get_student("rmkd", "tiny").config == get_student("rmkd", tiny).config
    with pytest.raises(ValueError, match="ModelConfigs"):
        get_distiller("kd", tiny.distill)
    assert get_model("unet").config.base_width == ModelConfigs().unet.base_width  # paper default
