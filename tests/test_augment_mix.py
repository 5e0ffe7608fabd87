"""Mixup, cutmix and the soft-target cross-entropy: labels match what was mixed into the pixels."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reti.augment import CutMix, Mixup, soft_cross_entropy
from reti.augment.mix import sample_beta
from reti.errors import ConfigError, ShapeError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def constant_images(B: int, H=12, W=12) -> torch.Tensor:
    """Image i is the constant c_i = (i + 1) / (B + 1): pixels tell where they came from."""
    c = (torch.arange(B, dtype=torch.float32) + 1) / (B + 1)
    return c[:, None, None, None].expand(B, 1, H, W).clone(), c


def test_mixup_pixels_and_labels_mix_with_the_same_weight():
    B = 16
    x, c = constant_images(B)
    out, y = Mixup(alpha=0.4, num_classes=B)(x, torch.arange(B), gen())
    torch.testing.assert_close(y.sum(1), torch.ones(B))
    torch.testing.assert_close(out[:, 0, 0, 0], y @ c)  # sum_k y_k c_k
    assert float(y.max(1).values.min()) < 0.9  # something really got mixed


def test_cutmix_label_weights_equal_the_pasted_area():
    B = 32
    x, c = constant_images(B, H=10, W=14)
    out, y = CutMix(alpha=1.0, num_classes=B)(x, torch.arange(B), gen())
    torch.testing.assert_close(y.sum(1), torch.ones(B))
    share = torch.stack([(out == c[k]).flatten(1).float().mean(1) for k in range(B)], 1)
    torch.testing.assert_close(y, share)  # y[i, k] = fraction of image i's pixels from k
    assert float((y.max(1).values < 1).float().mean()) > 0.5


def test_smoothing_and_soft_labels_in():
    B, K = 8, 5
    y_int = torch.arange(B) % K
    smooth_only = Mixup(alpha=1.0, smoothing=0.1, p=0.0, num_classes=K)
    _, y = smooth_only(torch.rand(B, 1, 4, 4), y_int, gen())
    expect = F.one_hot(y_int, K) * 0.9 + 0.1 / K
    torch.testing.assert_close(y, expect)  # p = 0: nothing mixed, only smoothed
    soft = torch.softmax(torch.randn(B, K, generator=gen(1)), -1)
    _, y2 = CutMix(alpha=1.0)(torch.rand(B, 3, 6, 6), soft, gen())  # no num_classes needed
    torch.testing.assert_close(y2.sum(1), torch.ones(B))


def test_mix_errors():
    with pytest.raises(ConfigError, match="num_classes"):
        Mixup(0.2)(torch.rand(4, 1, 4, 4), torch.arange(4), gen())
    with pytest.raises(ConfigError, match="needs y"):
        CutMix(1.0, num_classes=3)(torch.rand(4, 1, 4, 4), None, gen())
    with pytest.raises(ShapeError, match="labels must be in"):
        Mixup(0.2, num_classes=3)(torch.rand(4, 1, 4, 4), torch.arange(4), gen())
    with pytest.raises(ConfigError, match="mixup alpha"):
        Mixup(0.0)
    with pytest.raises(ConfigError, match="cutmix smoothing"):
        CutMix(1.0, smoothing=1.0)


@pytest.mark.parametrize("alpha", [0.2, 1.0, 4.0])
def test_beta_sampler_moments(alpha):
    lam = sample_beta(alpha, 20000, gen(3))
    var = 1 / (4 * (2 * alpha + 1))  # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
    assert bool(((lam >= 0) & (lam <= 1)).all())
    assert abs(float(lam.mean()) - 0.5) < 4 * (var / 20000) ** 0.5
    assert abs(float(lam.var()) - var) < 0.06 * var


def test_soft_cross_entropy_matches_the_formulas():
    logits = torch.randn(6, 4, generator=gen(2), requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    torch.testing.assert_close(soft_cross_entropy(logits, y), F.cross_entropy(logits, y))
    one_hot = F.one_hot(y, 4).float()
    torch.testing.assert_close(soft_cross_entropy(logits, one_hot), F.cross_entropy(logits, y))
    soft = torch.softmax(torch.randn(6, 4, generator=gen(4)), -1)
    by_hand = -(soft * torch.log(torch.softmax(logits, -1))).sum(1).mean()
    loss = soft_cross_entropy(logits, soft)
    torch.testing.assert_close(loss, by_hand)
    loss.backward()
    torch.testing.assert_close(logits.grad, (torch.softmax(logits, -1) - soft).detach() / 6)
    with pytest.raises(ShapeError, match="soft targets"):
        soft_cross_entropy(logits, torch.rand(6, 3))
    with pytest.raises(ShapeError, match="logits"):
        soft_cross_entropy(torch.rand(6), y)


@pytest.fixture
def one_thread():
    """Tiny matmuls on a loaded 2-core machine wait tens of ms for a second thread: use one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_training_on_mixed_batches_learns(one_thread):
    """A linear classifier on two blob classes of 1x4x4 images learns through mixup + cutmix."""
    g = gen(0)
    N = 256
    y = torch.randint(0, 2, (N,), generator=g)
    centres = torch.stack([torch.full((16,), 0.3), torch.full((16,), 0.7)])
    x = (centres[y] + 0.15 * torch.randn(N, 16, generator=g)).clamp(0, 1).view(N, 1, 4, 4)
    model = torch.nn.Linear(16, 2)
    mixers = [Mixup(0.4, num_classes=2), CutMix(1.0, num_classes=2)]
    losses = []
    for step in range(60):
        xb, yb = mixers[step % 2](x, y, g)
        loss = soft_cross_entropy(model(xb.flatten(1)), yb)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():  # plain SGD (torch.optim's first step imports a lot)
            for param in model.parameters():
                param -= 0.5 * param.grad
        losses.append(loss.item())
    accuracy = (model(x.flatten(1)).argmax(1) == y).float().mean()
    assert sum(losses[-10:]) < sum(losses[:10]) and float(accuracy) > 0.9


def test_mixup_gradients_reach_both_images():
    B = 8
    x = torch.rand(B, 3, 5, 5, generator=gen(1), requires_grad=True)
    out, _ = Mixup(alpha=0.5, num_classes=4)(x, torch.arange(B) % 4, gen(2))
    out.sum().backward()
    # every output pixel is lam x_i + (1 - lam) x_j: its weights sum to 1, so the total is B*C*H*W
    torch.testing.assert_close(x.grad.sum(), torch.tensor(float(x.numel())))
    assert float(x.grad.min()) >= 0 and float(x.grad.std()) > 0
