import pytest

from prelib.downscaling.config import DownscalingConfig, load_downscaling_config
from prelib.models.diffusion_unet import ConditionalUNet
from prelib.models.maunet import MAUNet, count_parameters
from prelib.models.precipdiff import PrecipDiff


def test_profiles_load_and_paper_sizes():
    tiny = load_downscaling_config("tiny")
    assert tiny.n_train < load_downscaling_config("demo").n_train
    paper = load_downscaling_config("paper")
    teacher = MAUNet(paper.maunet_config())
    student = MAUNet(paper.maunet_config(light=True))
    ratio = count_parameters(student) / count_parameters(teacher)
    assert count_parameters(teacher) > 30e6 and 0.5 < ratio <= 0.6
    unet = ConditionalUNet(paper.unet_config().replace(in_channels=2))
    assert 2e6 < count_parameters(unet) < 10e6
    assert paper.edm_config().n_steps == 18 and paper.edm_config().sigma_max == 80.0
    model = PrecipDiff(paper.factor, paper.unet_config(), paper.edm_config())
    assert count_parameters(model) == 2 * count_parameters(unet)


def test_validation_names_the_field():
    with pytest.raises(ValueError, match="patch"):
        DownscalingConfig(patch=85)
    with pytest.raises(ValueError, match="light_width_mult"):
        DownscalingConfig(light_width_mult=1.2)
    with pytest.raises(ValueError, match="gamma"):
        DownscalingConfig(bias={"gamma": -1.0})
    with pytest.raises(ValueError, match="unknown field"):
        load_downscaling_config("tiny", widht=3)
