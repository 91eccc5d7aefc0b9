"""li2core.activations, the one registry: sigma, sigma' and sigma'' against independent definitions, autograd and finite
differences; the accepted names and the one-line errors."""
from __future__ import annotations

import pytest
import torch

from li2core.activations import ACTIVATIONS, THEORY_ACTIVATIONS, activation, derivatives

# independent definitions (paper-li2 §1.3)
REF = {
    "sqr": lambda h: h**2,
    "relu": lambda h: torch.where(h > 0, h, torch.zeros_like(h)),
    "silu": lambda h: h / (1.0 + torch.exp(-h)),
    "relusqr": lambda h: torch.where(h > 0, h, torch.zeros_like(h)) ** 2,
    "linear": lambda h: 1.0 * h,
}


def _points() -> torch.Tensor:
    h = torch.linspace(-4.0, 4.0, 81, dtype=torch.float64)
    h = h[h.abs() > 1e-9]  # ReLU is not differentiable at 0
    return torch.cat([h, torch.randn(50, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 3])


@pytest.mark.parametrize("act", THEORY_ACTIVATIONS)
def test_sigma_and_its_derivatives_match_autograd_and_finite_differences(act):
    sigma, dsigma, d2sigma = derivatives(act)
    h = _points()
    torch.testing.assert_close(sigma(h), REF[act](h), rtol=1e-13, atol=1e-15)
    hr = h.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(REF[act](hr).sum(), hr, create_graph=True)
    torch.testing.assert_close(dsigma(h), g.detach(), rtol=1e-12, atol=1e-14)
    eps = 1e-6
    fd = (REF[act](h + eps) - REF[act](h - eps)) / (2 * eps)
    torch.testing.assert_close(dsigma(h), fd, rtol=1e-6, atol=1e-7)
    # sigma'' (for relu and linear the a.e. value 0; autograd of the step / constant gives 0 too)
    (g2,) = torch.autograd.grad(g.sum(), hr, allow_unused=True) if g.requires_grad else (None,)
    ref2 = torch.zeros_like(h) if g2 is None else g2
    torch.testing.assert_close(d2sigma(h), ref2, rtol=1e-12, atol=1e-14)
    fd2 = (dsigma(h + eps) - dsigma(h - eps)) / (2 * eps)
    torch.testing.assert_close(d2sigma(h), fd2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_the_trainers_pair_is_the_theorys_first_two(act):
    h = _points()
    s, ds = activation(act)
    s3, ds3, _ = derivatives(act)
    assert torch.equal(s(h), s3(h)) and torch.equal(ds(h), ds3(h))


def test_names_and_errors():
    assert THEORY_ACTIVATIONS == ACTIVATIONS + ("linear",)
    with pytest.raises(ValueError) as ei:
        activation("tanh")
    msg = str(ei.value)
    assert msg.startswith("activation") and "\n" not in msg and all(a in msg for a in ACTIVATIONS)
    with pytest.raises(ValueError, match="^activation: unknown activation 'linear'"):
        activation("linear")  # the trainer has no linear net
    with pytest.raises(ValueError, match="linear"):
        derivatives("tanh")
