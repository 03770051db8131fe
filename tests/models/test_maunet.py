import pytest
import torch
import torch.nn.functional as F

from prelib.models.maunet import (
    MAUNet,
    MAUNetConfig,
    MaxAveragePool,
    UpSamplerUnit,
    build_maunet,
    count_parameters,
)


def test_pooling_merges_both_branches():
    x = torch.randn(2, 3, 8, 8)
    max_branch, avg_branch = F.max_pool2d(x, 2), F.avg_pool2d(x, 2)
    for merge in ("mean", "learned"):  # the learned mix starts at the mean
        out = MaxAveragePool(3, merge)(x)
        torch.testing.assert_close(out, 0.5 * (max_branch + avg_branch))
        # dropping either branch would change the result
        assert not torch.allclose(out, max_branch) and not torch.allclose(out, avg_branch)


def test_learned_merge_reaches_both_branches_with_gradient():
    pool = MaxAveragePool(2, "learned")
    pool(torch.randn(1, 2, 4, 4)).sum().backward()
    grad = pool.mix.weight.grad[:, :, 0, 0]
    assert (grad[:, :2].abs().sum() > 0) and (grad[:, 2:].abs().sum() > 0)


def test_upsampler_unit_averages_learned_and_fixed_paths():
    unit = UpSamplerUnit(4, 0, 4).eval()
    x = torch.randn(1, 4, 3, 3)
    fixed = unit.fixed(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
    expected = unit.conv(0.5 * (unit.learned(x) + fixed))
    torch.testing.assert_close(unit(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("factor", "upsample_input", "coarse", "fine"),
    [(1, True, 8, 8), (4, True, 4, 16), (4, False, 4, 16), (10, True, 4, 40)],
)
def test_tasks_shapes(factor, upsample_input, coarse, fine):
    model = build_maunet(factor, base_width=4, depth=2, upsample_input=upsample_input)
    out, features = model(torch.rand(2, 1, coarse, coarse), return_features=True)
    assert out.shape == (2, 1, fine, fine)
    assert [f.shape[1] for f in features] == model.feature_channels


def test_paper_size_and_light_ratio():
    teacher, student = build_maunet(4), build_maunet(4, light=True)
    assert teacher.config.widths() == [64, 128, 256, 512, 1024]
    n_teacher, n_student = count_parameters(teacher), count_parameters(student)
    assert 30e6 < n_teacher < 45e6
    assert 0.5 <= n_student / n_teacher <= 0.6


def test_bad_configs():
    with pytest.raises(ValueError, match="power of two"):
        MAUNetConfig(factor=10, upsample_input=False)
    with pytest.raises(ValueError, match="merge"):
        MAUNetConfig(merge="max")
    model = build_maunet(1, base_width=4, depth=3)
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth"):
        model(torch.rand(1, 1, 12, 12))
    with pytest.raises(ValueError, match="expects"):
        model(torch.rand(1, 2, 16, 16))


def test_one_step_lowers_loss():
    torch.manual_seed(0)
    model = MAUNet(MAUNetConfig(base_width=4, depth=2, factor=4, dropout=0.0))
    x, y = torch.rand(2, 1, 4, 4), torch.rand(2, 1, 16, 16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    before = F.mse_loss(model(x), y)
    before.backward()
    optimizer.step()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert F.mse_loss(model(x), y) < before


def test_light_student_is_light_in_flops_not_only_parameters():
    """Issue: MAUNet-Light's FLOPs must be <= 0.5x the teacher's (parameters stay ~60 %)."""
    from torch.utils.flop_counter import FlopCounterMode

    flops = {}
    for light in (False, True):
        model = build_maunet(10, light=light).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.rand(1, 1, 8, 8))
        flops[light] = counter.get_total_flops()
    assert flops[True] <= 0.5 * flops[False]
    uniform = build_maunet(10, light=True, taper=1.0)
    assert uniform.config.widths()[0] > build_maunet(10, light=True).config.widths()[0]


def test_conservative_output_keeps_every_block_mean():
    model = build_maunet(10, base_width=4, depth=2, output="conservative").eval()
    coarse = torch.rand(2, 1, 4, 4) * 20.0
    coarse[0, 0, 0, 0] = 0.0  # a dry block stays exactly dry
    with torch.no_grad():
        fine = torch.expm1(model(torch.log1p(coarse)))
    blocks = torch.nn.functional.avg_pool2d(fine, 10)
    torch.testing.assert_close(blocks, coarse, rtol=1e-4, atol=1e-5)
    assert (fine >= 0).all() and (fine[0, 0, :10, :10] == 0).all()
    with pytest.raises(ValueError, match="conservative"):
        MAUNetConfig(factor=1, output="conservative")


def test_registry_builds_maunet_and_diffusion_unet_from_their_configs():
    from prelib.models import get_model
    from prelib.models.diffusion_unet import ConditionalUNet, DiffusionUNetConfig

    config = MAUNetConfig(base_width=4, depth=2, factor=4, width_mult=0.5)
    net = get_model("maunet", config)
    assert isinstance(net, MAUNet) and net.config == config
    assert get_model("maunet", config, dropout=0.0).config.dropout == 0.0
    unet = get_model("diffusion_unet", DiffusionUNetConfig(base_width=8))
    assert isinstance(unet, ConditionalUNet) and unet.config.base_width == 8
    with pytest.raises(ValueError, match="expected a MAUNetConfig"):
        get_model("maunet", DiffusionUNetConfig())
