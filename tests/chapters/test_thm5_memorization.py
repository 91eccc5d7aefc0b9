"""li2core.chapters.thm5_memorization: the chapter's frame builders (tiny sizes: Z5, six starts, few steps) and
figure functions (data and labelled axes).

(Moved from tests/test_thm5_memorization_lib.py.)"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import groups
from li2core import theory as th
from li2core.chapters import thm5_memorization as ch
from li2core.figures import check_legible
from li2core.threads import one_torch_thread


def test_thm5_plots():
    prof = pd.DataFrame({"activation": ["relu"] * 4, "source": ["a", "a", "KKT curve", "KKT curve"],
                         "p": [0.2, 0.1, 0.05, 0.3], "s": [0.8, 0.4, 0.2, 1.2]})
    d = ch.thm5_profiles_data(prof)
    assert len(d) == 4 and sorted(d["s"]) == sorted(prof["s"])
    fig = ch.thm5_profiles(prof)
    assert isinstance(fig, plt.Figure) and fig.get_figwidth() <= 8.0
    drawn = [a for a in fig.axes if a.axison]
    assert len(drawn) == 1 and all(a.get_xlabel() and a.get_ylabel() for a in drawn)
    check_legible(fig, "thm5_profiles")
    plt.close(fig)
    three = pd.concat([prof.assign(activation=a) for a in ("sqr", "relu", "silu")])
    fig = ch.thm5_profiles(three)  # 3 panels + the legend cell: a 2 x 2 grid
    assert len([a for a in fig.axes if a.axison]) == 3 and len(fig.axes) == 4 and fig.get_figwidth() <= 8.0
    check_legible(fig, "thm5_profiles")
    plt.close(fig)
    mx = pd.DataFrame({"activation": ["sqr", "sqr", "silu", "silu", "silu"], "method": ["m1", "m1", "m1", "m2", "m2"],
                       "E_ratio": [1.0, 1.0, 0.4, 1.0, 0.4]})
    d = ch.thm5_maxima_data(mx)
    n = mx.groupby(["activation", "method"]).size()
    assert [n[(a, m)] for a, m in zip(d["activation"], d["method"])] == d["n"].tolist()
    fig = ch.thm5_maxima(mx)
    assert isinstance(fig, plt.Figure) and fig.axes[0].get_ylabel() and len(fig.axes) == 2
    assert fig.get_figwidth() <= 8.0
    check_legible(fig, "thm5_maxima")
    plt.close(fig)


# --- frame builders (tiny sizes: Z5, a handful of starts, few steps) ------------------------------------------

ACTS = ["sqr", "relu", "silu"]
H = 2  # the single target
SEEDS = [0, 1, 2]  # random starts of the reduced problem


@pytest.fixture(scope="module")
def tiny():
    """Z5, target 2, seeded p; the reduced solutions, the reference nodes and short full-E ascents."""
    G = groups.make("Z5")
    p = th.single_target_probabilities(G.order, 0)
    with one_torch_thread():
        sol = ch.reduced_solutions(p, ACTS, seeds=SEEDS)
        info = ch.reference_nodes(sol.reduced, G, H, p, ACTS)
        W0 = th.random_starts(6, G.order, seed=1)
        ends = ch.full_energy_ascents(W0, G, H, p, info, ACTS, steps=300, flow_activations=["relu", "silu"],
                                      flow_dt=0.05, flow_steps=60)
    return dict(G=G, p=p, sol=sol, info=info, W0=W0, ends=ends)


def _pair_sums_by_table(w, G, h):
    """s_g = u_g + v_b with b the solution of g * b = h in the Cayley table (independent of th.pair_sums)."""
    T = np.asarray(G.table)
    M = T.shape[0]
    b = [int(np.flatnonzero(T[g] == h)[0]) for g in range(M)]
    return torch.stack([w[..., g] + w[..., M + b[g]] for g in range(M)], -1)


def test_reduced_solutions_and_certificates(tiny):
    p, sol = tiny["p"], tiny["sol"]
    red, kkt, lam, F, per, dev = sol
    assert list(red) == ACTS and list(kkt) == ACTS and list(lam) == ACTS and list(F) == ACTS and list(per) == ACTS
    for act in ACTS:
        assert per[act].shape == (len(SEEDS), 5) and dev[act].shape == (len(SEEDS),)
        torch.testing.assert_close(red[act], per[act][0], rtol=0, atol=0)
        for i, seed in enumerate(SEEDS):  # each row: the ascent from the random start of that seed
            torch.testing.assert_close(per[act][i], th.memorization_reduced(p, act, start="random", seed=seed),
                                       rtol=0, atol=0)
            s0 = th.memorization_reduced(p, act, steps=0, start="random", seed=seed)
            assert float(dev[act][i]) == pytest.approx(float((s0 - kkt[act]).abs().max()))
        assert float(dev[act].min()) > 1e-2  # the starts are not the answer
        assert float((per[act] - kkt[act]).abs().max()) < 1e-8
        assert F[act] == pytest.approx(float((p * {"sqr": red[act] ** 2, "relu": red[act].clamp_min(0),
                                                    "silu": torch.nn.functional.silu(red[act])}[act]).sum()))
    with pytest.raises(ValueError, match="seeds"):
        ch.reduced_solutions(p, ["sqr"], seeds=[])
    for sols in (red, per):  # one solution per activation, or one per start
        cert = ch.reduced_certificates(sols, p)
        assert cert["mass_sqr"] == pytest.approx(1.0, abs=1e-9) and cert["F_sqr_gap"] < 1e-12
        assert cert["relu_dev"] < 1e-8 and cert["F_relu_gap"] < 1e-12
        assert cert["silu_min"] > 0 and cert["silu_ordered"] is True and cert["kkt_rel"] < 1e-6
        assert cert["kkt_mean"] == pytest.approx(2 * lam["silu"], rel=1e-6)
    only_relu = ch.reduced_certificates({"relu": red["relu"]}, p)
    assert math.isnan(only_relu["mass_sqr"]) and "silu_min" not in only_relu and only_relu["relu_dev"] < 1e-8
    # a non-focused s has a share below 1; the worst start counts
    assert ch.reduced_certificates({"sqr": red["relu"]}, p)["mass_sqr"] < 0.9
    mixed = torch.stack([red["sqr"], red["relu"]])
    assert ch.reduced_certificates({"sqr": mixed}, p)["mass_sqr"] < 0.9
    bad_order = torch.stack([red["silu"], red["silu"].flip(0)])
    assert ch.reduced_certificates({"silu": bad_order}, p)["silu_ordered"] is False


def test_reference_nodes(tiny):
    G, sol, info = tiny["G"], tiny["sol"], tiny["info"]
    assert list(info) == ACTS
    for act in ACTS:
        d = info[act]
        assert d["w_star"].shape == (10,)
        assert d["norm"] == pytest.approx(1.0, abs=1e-12)
        assert abs(d["E_lit"]) < 1e-20
        torch.testing.assert_close(d["s_back"], sol.reduced[act], rtol=0, atol=1e-12)
        torch.testing.assert_close(_pair_sums_by_table(d["w_star"], G, H), sol.reduced[act], rtol=0, atol=1e-12)
        assert d["E_star"] == pytest.approx(th.reduced_energy(sol.F[act], G.order), rel=1e-12)


def test_full_energy_ascents_and_maxima_frame(tiny):
    G, p, info, ends = tiny["G"], tiny["p"], tiny["info"], tiny["ends"]
    assert list(ends) == [("sqr", ch.GAUSSIAN), ("sqr", ch.POSITIVE), ("relu", ch.GAUSSIAN), ("relu", ch.POSITIVE),
                          ("relu", ch.FLOW), ("silu", ch.GAUSSIAN), ("silu", ch.POSITIVE), ("silu", ch.FLOW)]
    for (act, method), e in ends.items():
        assert e["w"].shape == (6, 10) and e["E"].shape == (6,)
        torch.testing.assert_close(e["cos"], (e["w"] @ info[act]["w_star"]).abs() if act == "sqr"
                                   else e["w"] @ info[act]["w_star"])
        sig = {"sqr": lambda x: x * x, "relu": torch.relu, "silu": torch.nn.functional.silu}[act]
        torch.testing.assert_close(e["z"], (p * sig(_pair_sums_by_table(e["w"], G, H))).sum(-1))
        assert (e["converged"] is None) == (method == ch.FLOW)
    # x^2 from every start and every method reaches w* (Theorem 5, focused)
    assert float(ends["sqr", ch.GAUSSIAN]["cos"].min()) > 0.999
    # the flow from W0 agrees with a direct call of the library's flow
    wf, _ = th.sphere_flow(tiny["W0"], G, "relu", dt=0.05, steps=60, weights=th.single_target_weights(G, H, p))
    torch.testing.assert_close(ends["relu", ch.FLOW]["w"], wf, rtol=0, atol=0)
    df = ch.maxima_frame(ends, info)
    assert list(df.columns) == ["activation", "method", "start", "E", "E_ratio", "cos", "z_h"]
    assert len(df) == 8 * 6
    assert df["start"].tolist()[:6] == list(range(6))
    r = df[(df.activation == "silu") & (df.method == ch.POSITIVE)]
    np.testing.assert_allclose(r["E_ratio"], ends["silu", ch.POSITIVE]["E"].numpy() / info["silu"]["E_star"])


def test_silu_second_maximum_and_relu_flow(tiny):
    G, p, info, ends, W0 = tiny["G"], tiny["p"], tiny["info"], tiny["ends"], tiny["W0"]
    sm = ch.silu_second_maximum(ends, info, G, H, p)
    neg = ends["silu", ch.GAUSSIAN]["z"] < 0
    assert sm["silu_neg_share"] == pytest.approx(float(neg.double().mean()))
    assert ("silu_neg_E" in sm) == bool(neg.any())
    assert sm["silu_star_eigmax"] < 0  # w* is a strict local maximum
    assert sm["silu_pos_cos"] == pytest.approx(float(ends["silu", ch.GAUSSIAN]["cos"][~neg].min()))
    rf = ch.relu_flow_dead_pairs(W0, ends, info, G, H, p)
    dead = _pair_sums_by_table(W0, G, H) < 0
    assert rf["relu_dead_starts"] == int(dead.any(-1).sum()) and rf["relu_dead_pairs"] == int(dead.sum())
    assert list(rf) == ["relu_dead_starts", "relu_dead_pairs", "relu_flow_dead_max", "relu_flow_live_min",
                        "relu_flow_cos_min", "relu_flow_E_max", "relu_flow_live_dev"]
    assert rf["relu_flow_E_max"] == pytest.approx(float(ends["relu", ch.FLOW]["E"].max()) / info["relu"]["E_star"])
    if rf["relu_dead_pairs"]:
        assert rf["relu_flow_dead_max"] <= 0  # the flow never revives a dead pair


def test_profile_frame(tiny):
    G, p, sol, ends = tiny["G"], tiny["p"], tiny["sol"], tiny["ends"]
    df = ch.profile_frame(ends, sol, G, H, p, ACTS)
    assert list(df.columns) == ["activation", "source", "g", "p", "s"]
    assert len(df) == 3 * 3 * 5 + 2 * 120  # three sources per g; a KKT curve for ReLU and SiLU only
    curve = df[df.source == "KKT curve"]
    assert set(curve.activation) == {"relu", "silu"} and (curve.g == -1).all()
    relu = curve[curve.activation == "relu"]
    np.testing.assert_allclose(relu["s"], relu["p"] / (2 * sol.lam["relu"]), rtol=1e-12)  # s = p / (2 lambda)
    f = df[(df.activation == "relu") & (df.source == "paper's formula")]
    np.testing.assert_allclose(f["s"], sol.formula["relu"].numpy())
    np.testing.assert_allclose(f["p"], p.numpy())
    full = df[(df.activation == "sqr") & (df.source.str.startswith("full"))]
    assert float(full["s"].sum()) >= 0  # the even activation's sign is fixed
