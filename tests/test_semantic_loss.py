"""The emotional semantic consistency loss of CycleEmotionGAN (eq. 5-7)."""

from __future__ import annotations

import math

import pytest
import torch

from emolab.core import ConfigError
from emolab.data.taxonomy import MIKELS8, wheel_distance
from emolab.losses import EmotionalSemanticConsistencyLoss, mikels_distance, symmetric_kl


def _onehot(name: str) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor([MIKELS8.index(name)]), len(MIKELS8)).float()


def test_symmetric_kl_matches_eq7_and_is_symmetric():
    g = torch.Generator().manual_seed(0)
    p = torch.rand(5, 8, generator=g).softmax(1)
    q = torch.rand(5, 8, generator=g).softmax(1)
    kl = lambda a, b: (a * a.log() - a * b.log()).sum(1)  # noqa: E731  eq. (7), written out
    assert torch.allclose(symmetric_kl(p, q), kl(p, q) + kl(q, p), atol=1e-5)
    assert torch.allclose(symmetric_kl(p, q), symmetric_kl(q, p))
    assert torch.allclose(symmetric_kl(p, p), torch.zeros(5), atol=1e-6)
    assert (symmetric_kl(p, q) > 0).all()


def test_mikels_distance_on_labels_is_the_papers_wheel_distance():
    for a in MIKELS8:
        for b in MIKELS8:
            d = mikels_distance(_onehot(a), _onehot(b)).item()
            assert d == wheel_distance(a, b)
    # Agreeing on a class is the minimum, 1; each step around the wheel adds one.
    assert mikels_distance(_onehot("fear"), _onehot("fear")).item() == 1
    assert mikels_distance(_onehot("amusement"), _onehot("excitement")).item() == 2
    assert mikels_distance(_onehot("amusement"), _onehot("sadness")).item() > 2


def test_mikels_distance_is_linear_in_soft_predictions_and_minimal_when_sure():
    p = 0.5 * _onehot("awe") + 0.5 * _onehot("fear")
    q = _onehot("awe")
    expected = 0.5 * wheel_distance("awe", "awe") + 0.5 * wheel_distance("fear", "awe")
    assert math.isclose(mikels_distance(p, q).item(), expected)
    g = torch.Generator().manual_seed(1)
    soft = torch.rand(20, 8, generator=g).softmax(1)
    assert (mikels_distance(soft, soft) > 1).all()  # unsure agreement costs more than sure agreement


@pytest.mark.parametrize("distance", ["skl", "mikels"])
def test_loss_module_averages_and_passes_gradients(distance):
    g = torch.Generator().manual_seed(2)
    src = torch.randn(6, 8, generator=g)
    adapted = torch.randn(6, 8, generator=g, requires_grad=True)
    loss = EmotionalSemanticConsistencyLoss(distance)(src, adapted)
    fn = symmetric_kl if distance == "skl" else mikels_distance
    assert torch.allclose(loss, fn(src.softmax(1), adapted.softmax(1)).mean())
    loss.backward()
    assert adapted.grad.abs().sum() > 0
    # Moving the adapted logits towards the source's lowers the loss.
    closer = EmotionalSemanticConsistencyLoss(distance)(src, 0.5 * (adapted.detach() + src))
    assert closer < loss


def test_bad_inputs():
    with pytest.raises(ConfigError, match="skl"):
        EmotionalSemanticConsistencyLoss("l2")
    with pytest.raises(ValueError, match="one shape"):
        symmetric_kl(torch.rand(2, 8), torch.rand(2, 7))
    with pytest.raises(ValueError, match="does not match"):
        mikels_distance(torch.rand(2, 7), torch.rand(2, 7))


def test_skl_works_on_classes_off_the_wheel_and_mikels_refuses_them():
    from emolab.data.taxonomy import EKMAN7

    loss = EmotionalSemanticConsistencyLoss("skl", classes=EKMAN7)
    logits = torch.randn(3, 7)
    assert loss(logits, logits).abs().item() < 1e-6
    with pytest.raises(KeyError, match="not on the wheel"):
        EmotionalSemanticConsistencyLoss("mikels", classes=EKMAN7)
