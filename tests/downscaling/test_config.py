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


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--profile", "paper"], {}),
        (["evaluate", "--profile", "tiny", "--seed", "5", "--epochs", "2"], {"seed": 5}),
    ],
)
def test_the_command_resolves_the_profiles_downscaling_section(argv, expected):
    """``prelib downscale`` resolves the run once; without --seed the downscaling seed stays."""
    import argparse

    from prelib.downscaling.commands import _config, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(argv)
    config = _config(args)
    if "--epochs" in argv:
        expected |= dict.fromkeys(("epochs_maunet", "epochs_student", "epochs_diffusion"), 2)
    assert config == load_downscaling_config(args.profile, **expected)
    assert config.seed == expected.get("seed", load_downscaling_config(args.profile).seed)


def test_training_settings_of_each_network():
    config = load_downscaling_config("tiny", epochs_maunet=3, epochs_student=2, lr=0.01)
    maunet = config.training_config("maunet")
    assert (maunet.epochs, maunet.optimizer, maunet.lr, maunet.weight_decay) == (3, "adam", 0.01, 0)
    assert (maunet.grad_clip, maunet.lr_gamma, maunet.device, maunet.amp) == (0, 1.0, "cpu", "off")
    assert maunet.best_metric == "val_rate_rmse" and maunet.seed == config.seed
    assert config.training_config("student").epochs == 2
    assert config.training_config("diffusion").epochs == config.epochs_diffusion
    with pytest.raises(ValueError, match="network"):
        config.training_config("gan")
