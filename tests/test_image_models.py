"""The image networks: CycleGAN generator, PatchGAN, expression classifiers."""

import pytest
import torch
from torch import nn
from torchvision import models

from emolab.core import ConfigError
from emolab.models import (
    NLayerDiscriminator,
    ResnetBlock,
    ResnetGenerator,
    SmallCNN,
    define_classifier,
    define_discriminator,
    define_generator,
    receptive_field,
    resnet_classifier,
)


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# --- generator ---------------------------------------------------------------

@pytest.mark.parametrize("size", [32, 48, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_keeps_shape_in_tanh_range(size, channels):
    g = define_generator("resnet_6blocks", channels, channels, ngf=8)
    with torch.no_grad():
        y = g(10 * torch.randn(2, channels, size, size))
    assert y.shape == (2, channels, size, size)
    assert y.abs().max() <= 1 and y.std() > 0


def test_generator_256px_and_channel_change():
    g = ResnetGenerator(1, 3, ngf=4, n_blocks=2)
    with torch.no_grad():
        assert g(torch.randn(1, 1, 256, 256)).shape == (1, 3, 256, 256)


@pytest.mark.parametrize("shape", [(1, 3, 50, 50), (1, 3, 64, 30), (1, 3, 4, 4)])
def test_generator_refuses_bad_sizes(shape):
    g = ResnetGenerator(ngf=4, n_blocks=1)
    with pytest.raises(ValueError, match="multiples of 4 and at least 8"):
        g(torch.randn(*shape))


def test_generator_refuses_wrong_channels():
    with pytest.raises(ValueError, match=r"\(batch, 1, H, W\)"):
        ResnetGenerator(1, 1, ngf=4, n_blocks=1)(torch.randn(1, 3, 32, 32))


def test_generator_structure():
    g = define_generator("resnet_9blocks", ngf=4)
    blocks = [m for m in g.modules() if isinstance(m, ResnetBlock)]
    assert len(blocks) == 9 and g.n_blocks == 9
    pads = [m for m in g.modules() if isinstance(m, nn.ReflectionPad2d)]
    assert len(pads) == 2 + 2 * 9  # the two 7x7 convolutions and two per block
    assert len([m for m in define_generator("resnet_6blocks", ngf=4).modules()
                if isinstance(m, ResnetBlock)]) == 6
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(not m.affine and not m.track_running_stats and m.running_mean is None
                         for m in norms)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():  # no running statistics: train and eval mode agree
        assert torch.allclose(g.train()(x), g.eval()(x))


def test_generator_block_is_residual():
    block = ResnetBlock(4, norm="none")
    for p in block.parameters():
        nn.init.zeros_(p)
    x = torch.randn(1, 4, 8, 8)
    assert torch.equal(block(x), x)


def test_paper_size_parameter_counts():
    # CycleGAN's own printout: G 11.378 M, D 2.765 M (see the test below for the D figure).
    assert n_params(ResnetGenerator(3, 3, ngf=64, n_blocks=9)) == 11_378_179
    assert n_params(define_discriminator("basic", 3, ndf=64)) == 2_764_737
    # batch norm drops the conv biases and adds scale/shift: a different, smaller count
    assert n_params(ResnetGenerator(3, 3, ngf=64, n_blocks=9, norm="batch")) != 11_378_179


# --- discriminators ----------------------------------------------------------

@pytest.mark.parametrize("size,side", [(32, 2), (48, 4), (64, 6), (128, 14)])
@pytest.mark.parametrize("channels", [1, 3])
def test_patchgan_score_map(size, side, channels):
    d = define_discriminator("basic", channels, ndf=8)
    with torch.no_grad():
        assert d(torch.randn(2, channels, size, size)).shape == (2, 1, side, side)


def test_patchgan_structure_and_small_inputs():
    d = define_discriminator("n_layers", 3, ndf=8, n_layers=5)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 64, 64, 1]  # capped at 8 * ndf
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    with pytest.raises(ValueError, match="at least 24x24"):
        define_discriminator("basic", 3, ndf=4)(torch.randn(1, 3, 16, 16))
    with torch.no_grad():
        assert define_discriminator("basic", 3, ndf=4)(torch.randn(1, 3, 24, 24)).shape == (1, 1, 1, 1)
        assert define_discriminator("pixel", 1, ndf=4)(torch.randn(1, 1, 32, 32)).shape == (1, 1, 32, 32)


@pytest.mark.parametrize("n_layers,expected", [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_matches_gradient(n_layers, expected):
    assert receptive_field(n_layers) == expected
    d = NLayerDiscriminator(1, ndf=4, n_layers=n_layers, norm="none").double()  # no mixing norm
    x = torch.randn(1, 1, 96, 96, dtype=torch.double, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    touched = x.grad[0, 0] != 0
    assert touched.any(dim=1).sum().item() == expected
    assert touched.any(dim=0).sum().item() == expected
    with pytest.raises(ConfigError):
        receptive_field(0)


# --- classifiers -------------------------------------------------------------

@pytest.mark.parametrize("size", [32, 48, 64])
def test_small_cnn_shapes(size):
    net = define_classifier("small_cnn", num_classes=7, in_channels=1, image_size=size, width=16)
    x = torch.randn(3, 1, size, size)
    assert net(x).shape == (3, 7) and net.features(x).shape == (3, 256)
    assert [m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d)] == [16, 32]
    with pytest.raises(ValueError, match=f"image_size={size}"):
        net(torch.randn(1, 1, size + 8, size + 8))


def test_small_cnn_paper_layout():
    net = SmallCNN()  # 48 px grey faces, width 64: a 12x12x128 map into FC-256
    assert [m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d)] == [64, 128]
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in net.modules()) == 2
    assert net.fc[1].in_features == 128 * 12 * 12
    assert sum(isinstance(m, nn.BatchNorm2d) for m in SmallCNN(norm="batch").modules()) == 2


@pytest.mark.parametrize("arch,dim", [("resnet18", 512), ("resnet50", 2048)])
@pytest.mark.parametrize("channels", [1, 3])
def test_resnet_classifier_shapes(arch, dim, channels):
    net = define_classifier(arch, num_classes=7, in_channels=channels).eval()
    x = torch.randn(2, channels, 32, 32)
    with torch.no_grad():
        assert net(x).shape == (2, 7) and net.features(x).shape == (2, dim)
    assert net.net.conv1.in_channels == channels and net.embedding_dim == dim


def test_resnet_small_input_stem():
    net = resnet_classifier("resnet18", 7, in_channels=1, small_input=True).eval()
    assert net.net.conv1.kernel_size == (3, 3) and net.net.conv1.stride == (1, 1)
    assert isinstance(net.net.maxpool, nn.Identity)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert net(x).shape == (2, 7)
        assert net.net.layer4(net.net.layer3(net.net.layer2(net.net.layer1(
            net.net.relu(net.net.bn1(net.net.conv1(x))))))).shape[-1] == 4  # not 1


def test_resnet_loads_local_weights(tmp_path):
    torch.manual_seed(0)
    saved = models.resnet18(weights=None).state_dict()
    path = tmp_path / "resnet18_imagenet.pt"
    torch.save(saved, path)
    rgb = resnet_classifier("resnet18", 7, in_channels=3, weights=path)
    assert torch.equal(rgb.net.conv1.weight, saved["conv1.weight"])
    assert torch.equal(rgb.net.layer3[0].conv1.weight, saved["layer3.0.conv1.weight"])
    assert rgb.net.fc.weight.shape == (7, 512)
    grey = resnet_classifier("resnet18", 7, in_channels=1, weights=str(path))
    assert grey.net.conv1.weight.shape == (64, 1, 7, 7)
    assert torch.allclose(grey.net.conv1.weight, saved["conv1.weight"].mean(dim=1, keepdim=True))
    with pytest.raises(ConfigError, match="never downloads"):
        resnet_classifier("resnet18", weights=tmp_path / "missing.pt")
    with pytest.raises(ConfigError, match="in_channels 1 or 3"):
        resnet_classifier("resnet18", in_channels=2, weights=path)


# --- factories ---------------------------------------------------------------

def test_unknown_kinds_raise():
    with pytest.raises(ConfigError, match="resnet_9blocks"):
        define_generator("unet_256")
    with pytest.raises(ConfigError, match="pixel"):
        define_discriminator("spectral")
    with pytest.raises(ConfigError, match="small_cnn"):
        define_classifier("vgg16")
    with pytest.raises(ConfigError, match="resnet50"):
        resnet_classifier("resnet34")
    with pytest.raises(ConfigError, match="instance"):
        ResnetGenerator(norm="group")
    with pytest.raises(ConfigError, match="reflect"):
        ResnetGenerator(padding="circular")
    with pytest.raises(ConfigError, match="lrn"):
        SmallCNN(norm="layer")
    with pytest.raises(ConfigError, match="pretrained"):
        define_classifier("small_cnn", weights="x.pt")


def test_init_applied():
    torch.manual_seed(0)
    for net in (define_generator("resnet_6blocks", ngf=16),
                define_discriminator("basic", ndf=16, norm="batch")):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.numel() > 1000:
                assert 0.018 < m.weight.std().item() < 0.022
                assert m.bias is None or torch.all(m.bias == 0)
            if isinstance(m, nn.BatchNorm2d):
                assert abs(m.weight.mean().item() - 1) < 0.01
    xavier = define_generator("resnet_6blocks", ngf=16, init_type="xavier", init_gain=1.0)
    assert xavier.model[1].weight.std().item() > 0.03
    with pytest.raises(ConfigError, match="init_type"):
        define_discriminator(init_type="uniform")


def test_residual_generator_edits_its_input():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 32, 32) * 1.8 - 0.9
    net = ResnetGenerator(1, 1, ngf=8, n_blocks=2, residual=True)
    last = net.model[-1]
    assert isinstance(last, nn.Conv2d)  # no tanh layer: it is applied after the addition
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    assert torch.allclose(net(x), x, atol=1e-5)  # h = 0: the identity
    nn.init.normal_(last.weight, 0, 0.5)
    y = net(x)
    assert y.abs().max() <= 1 and not torch.allclose(y, x, atol=1e-3)  # tanh may round to 1 in float32
    net(x).sum().backward()
    assert last.weight.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="in_channels == out_channels"):
        ResnetGenerator(1, 3, residual=True)


def test_residual_clip_bounds_the_input_and_keeps_saturated_pixels_trainable():
    values = torch.tensor([-1.0, -0.5, 0.0, 0.95, 1.0])
    x = values[torch.arange(32) % 5].expand(1, 1, 32, 32).clone()  # column j holds values[j % 5]
    grads = {}
    for clip in (0.999, 0.9):
        net = ResnetGenerator(1, 1, ngf=4, n_blocks=1, residual=True, residual_clip=clip)
        nn.init.zeros_(net.model[-1].weight)
        nn.init.zeros_(net.model[-1].bias)
        y = net(x)
        assert torch.allclose(y, x.clamp(-clip, clip), atol=1e-5)  # h = 0: clip(x)
        y[..., 4].sum().backward()                                  # the column of pixels at 1.0
        grads[clip] = net.model[-1].bias.grad.abs().item()
    # d tanh at the clipped pixel: 1 - 0.999**2 = 0.002 against 1 - 0.9**2 = 0.19
    assert grads[0.9] > 50 * grads[0.999]
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ConfigError, match="residual_clip"):
            ResnetGenerator(1, 1, residual=True, residual_clip=bad)


def test_color_path_starts_at_zero_and_learns_a_colour_map():
    """The 1x1 colour path adds a linear map of the pre-activation to the residual:
    zero at initialisation (the identity), and able to express a desaturation exactly."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 1.6 - 0.8
    net = ResnetGenerator(3, 3, ngf=4, n_blocks=1, residual=True, color_path=True)
    nn.init.zeros_(net.model[-1].weight)
    nn.init.zeros_(net.model[-1].bias)
    assert torch.allclose(net(x), x, atol=1e-5)
    # a colour path of -0.5 * identity halves every pre-activation: tanh(0.5 * atanh(x))
    with torch.no_grad():
        net.color.weight.copy_(-0.5 * torch.eye(3).view(3, 3, 1, 1))
    assert torch.allclose(net(x), torch.tanh(0.5 * torch.atanh(x)), atol=1e-5)
    with pytest.raises(ConfigError, match="color_path needs residual"):
        ResnetGenerator(3, 3, color_path=True)
