"""li2core.chapters.med_progress: the cases and runs, the embedding measures against closed forms (equally spaced
circles, the chi distribution, the equality case of Thm 3.8's bound), the post-fit statistics against independent
numpy computations on a synthetic trace, and the trace, spectrum and figures of a tiny real run."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import measures
from li2core.chapters import med_progress as ch
from li2core.figures import check_legible
from li2core.train import train


def circle(p: int, k: int, r: float = 2.0, dim: int = 6) -> torch.Tensor:
    """``p`` rows on a circle of radius ``r`` at frequency ``k`` in the first two of ``dim`` coordinates."""
    t = 2 * math.pi * k * torch.arange(p, dtype=torch.float64) / p
    E = torch.zeros(p, dim, dtype=torch.float64)
    E[:, 0], E[:, 1] = r * torch.cos(t), r * torch.sin(t)
    return E


def test_parse_cases_fills_defaults_and_names_bad_input():
    c = ch.parse_cases([{"op": "add", "p": 31, "train_frac": 0.6},
                        {"op": "x2y2", "p": 97, "train_frac": 0.2, "d_model": 256, "split": "square",
                         "figure": "MED Fig. 14"}], 64, 256)
    assert c[0] == dict(op="add", p=31, train_frac=0.6, d_model=64, width=256, split="shuffle", dugout=None, figure="")
    assert c[1]["d_model"] == 256 and c[1]["width"] == 256 and c[1]["dugout"] == 0 and c[1]["split"] == "square"
    assert ch.case_label(c[1]) == "x^2+y^2, p = 97, frac 0.2, d_model 256, k = 0"
    for bad in ([], "add", [{"op": "add", "p": 31}], [{"op": "div", "p": 31, "train_frac": 0.5}],
                [{"op": "add", "p": 31, "train_frac": 0.5, "lr": 1}],
                [{"op": "add", "p": 31, "train_frac": 0.5, "split": "strip"}]):
        with pytest.raises(ValueError, match=r"^cases"):
            ch.parse_cases(bad, 64, 256)


def test_med_configs_are_the_authors_settings_per_seed():
    cases = ch.parse_cases([{"op": "sub", "p": 11, "train_frac": 0.5},
                            {"op": "mul", "p": 13, "train_frac": 0.4, "split": "square", "dugout": 2}], 16, 32)
    cfgs = ch.med_configs(cases, 2, 30, 5, 3e-3, 1.0)
    assert [(c.op, c.M, c.seed) for c in cfgs] == [("sub", 11, 0), ("sub", 11, 1), ("mul", 13, 0), ("mul", 13, 1)]
    c = cfgs[2]
    assert (c.split, c.dugout, c.d_model, c.width, c.n_layers, c.n_heads) == ("square", 2, 16, 32, 1, 4)
    assert (c.optimizer, c.lr, c.weight_decay, c.beta1, c.beta2, c.warmup_steps) == ("adamw", 3e-3, 1.0, 0.9, 0.98, 10)
    assert cfgs[0].split == "shuffle" and ch.case_label(cfgs[2]) == "xy, p = 13, frac 0.4, d_model 16, k = 2"
    with pytest.raises(ValueError, match="^seeds:"):
        ch.med_configs(cases, 0, 30, 5, 1e-3, 1.0)
    assert ch.snapshot_epochs(50, 20) == [0, 20, 40, 50]
    with pytest.raises(ValueError, match="^snapshot_every:"):
        ch.snapshot_epochs(50, 0)


@pytest.mark.parametrize("p, k", [(31, 1), (31, 11), (11, 5)])
def test_embedding_measures_of_an_equally_spaced_circle(p, k):
    E = circle(p, k)
    m = ch.embedding_measures(E.T, p)  # W_E is (d_model, d_vocab)
    chord = 2 * math.sin(math.pi * k / p)
    assert m["med_snap"] == pytest.approx(2.0 * chord, rel=1e-12)
    assert m["med_code_snap"] == pytest.approx(2.0 * chord, rel=1e-12)
    assert m["row_norm"] == pytest.approx(2.0) and m["med_rel"] == pytest.approx(chord, rel=1e-12)
    assert m["gap_cv"] == pytest.approx(0.0, abs=1e-12)
    share = ch.frequency_power(E)
    assert share[k] == pytest.approx(1.0) and share.sum() == pytest.approx(1.0)
    assert ch.rms_gap_ratio(share, p) == pytest.approx(chord, rel=1e-12)


def test_parseval_for_the_gaps_on_random_rows():
    E = torch.randn(17, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 0.3
    g = (E.roll(-1, 0) - E).norm(dim=1)
    direct = float((g.pow(2).mean() / E.pow(2).sum(1).mean()).sqrt())
    assert ch.rms_gap_ratio(ch.frequency_power(E), 17) == pytest.approx(direct, rel=1e-12)
    with pytest.raises(ValueError, match="^E:"):
        ch.frequency_power(E[:16])


def test_init_med_against_a_monte_carlo_of_the_authors_init():
    d, p, n = 64, 31, 4000
    gen = torch.Generator().manual_seed(0)
    E = torch.randn(n, p, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    meds = measures.med(E)
    mean, sd_bound = ch.init_med(d, p)
    assert float(meds.mean()) == pytest.approx(mean, abs=4 * float(meds.std()) / math.sqrt(n))
    assert float(meds.std()) <= sd_bound and float(meds.std()) > 0.3 * sd_bound
    gaps = (E.roll(-1, 1) - E).norm(dim=-1).flatten()
    assert ch.gap_cv_random(d) == pytest.approx(float(gaps.std() / gaps.mean()), rel=0.02)
    assert ch.gap_cv_random(d) == pytest.approx(1 / math.sqrt(2 * d), rel=0.02)


def test_thm38_bound_holds_and_is_attained_by_alternating_rows():
    v = torch.tensor([0.6, -0.8, 0.0], dtype=torch.float64) * 1.5
    p = 8  # even: phi(i) = (-1)^i v has every gap 2 ||v|| and ||E||^2 = p ||v||^2
    E = torch.stack([v * (-1) ** i for i in range(p)])
    W = float(E.pow(2).sum())
    assert float(measures.med(E)) == pytest.approx(float(ch.thm38_bound(W, p)), rel=1e-12)
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        E = torch.randn(11, 4, generator=gen, dtype=torch.float64)
        W = float(E.pow(2).sum()) + 3.0  # other weights only add to the weight-decay term
        assert float(measures.med(E)) < float(ch.thm38_bound(W, 11))


def test_first_epoch_and_half_change():
    assert ch.first_epoch_at([0, 10, 20], [0.5, 1.0, 1.0], 1.0) == 10
    assert math.isnan(ch.first_epoch_at([0, 10], [0.5, 0.9], 1.0))
    ep = np.arange(0, 110, 10)
    assert ch.half_change_epoch(ep, 100 - ep, 0, 100) == 50
    assert ch.half_change_epoch(ep, (ep / 100.0) ** 2, 20, 100) == 80  # (t^2 - 0.04) / 0.96 >= 1/2 first at t = 0.8
    assert math.isnan(ch.half_change_epoch(ep, np.ones(len(ep)), 0, 100))
    assert math.isnan(ch.half_change_epoch(ep, ep, 5, 100))
    with pytest.raises(ValueError, match="^epochs, values:"):
        ch.first_epoch_at([0, 10], [0.5], 1.0)


def synthetic_trace() -> pd.DataFrame:
    """Two runs; run 0 fits at epoch 20, its test loss peaks at 30 and falls to its minimum at 90, then rises."""
    ep = np.arange(0, 110, 10, dtype=float)
    rows = []
    for r in (0, 1):
        train_acc = np.where(ep >= 20 + 10 * r, 1.0, 0.5)
        loss = np.array([3, 3.5, 4, 5, 4, 3, 2, 1.5, 1.2, 1.0, 1.1]) + r
        rows.append(pd.DataFrame(dict(run=r, case="c", seed=r, epoch=ep, train_acc=train_acc,
                                      test_acc=np.where(loss <= 1.0, 0.99, 0.5), test_loss=loss, med=loss ** 2,
                                      med_code=-loss, med_rel=np.sin(ep), gap_cv=np.nan, emb_norm=ep,
                                      weight_norm=loss, W_purity=1.0)))
    return pd.concat(rows, ignore_index=True)


def test_run_summary_correlations_and_leads_on_a_synthetic_trace():
    tr = synthetic_trace()
    runs = ch.run_summary(tr)
    r0 = runs.iloc[0]
    assert (r0["fit_epoch"], r0["peak_epoch"], r0["min_epoch"]) == (20, 30, 90)
    assert r0["grok_epoch"] == 90 and runs.iloc[1]["fit_epoch"] == 30 and math.isnan(runs.iloc[1]["grok_epoch"])
    corr = ch.correlations(tr, runs).set_index(["run", "measure"])
    post = tr[(tr.run == 0) & (tr.epoch >= 20)]
    x, y = post["med"].to_numpy(), post["test_loss"].to_numpy()
    assert corr.loc[(0, "med"), "pearson"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert corr.loc[(0, "med"), "spearman"] == pytest.approx(1.0)  # x = y^2 with y > 0: the same ranks
    assert corr.loc[(0, "med_code"), "spearman"] == pytest.approx(-1.0) and corr.loc[(0, "med"), "n"] == 9
    assert math.isnan(corr.loc[(0, "gap_cv"), "spearman"]) and math.isnan(corr.loc[(0, "W_purity"), "pearson"])
    s = ch.corr_summary(ch.correlations(tr, runs)).set_index("measure")
    assert s.loc["med_code", "abs_spearman"] == pytest.approx(1.0) and s.loc["med", "seeds"] == 2
    lead = ch.lead_frame(tr, runs).set_index(["run", "measure"])
    # the test loss falls 5 -> 1 over [30, 90]: half (3) at epoch 50; emb_norm = epoch covers half at 60
    assert lead.loc[(0, "med"), "loss_half"] == 50 and lead.loc[(0, "emb_norm"), "t_half"] == 60
    assert lead.loc[(0, "emb_norm"), "lead"] == -10
    # med = loss^2: 25 -> 1, half (13) first reached at epoch 50 (9 <= 13; at 40, 16 > 13)
    assert lead.loc[(0, "med"), "t_half"] == 50 and lead.loc[(0, "med"), "lead"] == 0
    n = ch.normalised(tr, runs, ["test_loss", "emb_norm"])
    assert n["test_loss"].min() == pytest.approx(0.0) and n["test_loss"].max() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def tiny():
    cases = ch.parse_cases([{"op": "add", "p": 11, "train_frac": 0.6}], 16, 32)
    cfgs = ch.med_configs(cases, 2, 120, 5, 1e-2, 1.0)
    res = train(cfgs, device="cpu", progress=False, metrics=ch.TRAIN_METRICS, snapshots=ch.snapshot_epochs(120, 10))
    return res


def test_trace_of_a_tiny_run_against_its_snapshots(tiny):
    tr = ch.trace_frame(tiny)
    snap = tr.dropna(subset=["med_snap"])
    assert len(snap) == 2 * 13 and tr["case"].unique().tolist() == ["x+y, p = 11, frac 0.6, d_model 16"]
    assert float((snap["med"] - snap["med_snap"]).abs().max()) < 1e-5
    assert float((snap["med_code"] - snap["med_code_snap"]).abs().max()) < 1e-5
    assert np.allclose(tr["p_med"], 11 * tr["med"])
    W_E = tiny.final_weights(1)[0]
    last = snap[(snap["seed"] == 1) & (snap["epoch"] == 120)].iloc[0]
    E = W_E.double().T[:11].numpy()
    gaps = np.linalg.norm(np.roll(E, -1, 0) - E, axis=1)
    assert last["med_rel"] == pytest.approx(gaps.mean() / np.linalg.norm(E, axis=1).mean(), rel=1e-9)
    assert last["gap_cv"] == pytest.approx(gaps.std() / gaps.mean(), rel=1e-9)
    spec = ch.final_spectrum(tiny)
    assert np.allclose(spec["rms_ratio"], spec["rms_ratio_direct"], rtol=1e-9)
    assert spec.loc[1, "med_rel"] == pytest.approx(last["med_rel"], rel=1e-9)


def test_figures_are_labelled_and_legible(tiny):
    tr = ch.trace_frame(tiny)
    runs = ch.run_summary(tr)
    two = pd.concat([tr, tr.assign(case="other", run=tr["run"] + 2)], ignore_index=True)
    runs2 = ch.run_summary(two)
    corr, lead = ch.correlations(two, runs2), ch.lead_frame(two, runs2)
    figs = {"med_fig5": ch.med_fig5(two, runs2), "med_measures": ch.med_measures(tr, runs),
            "med_compare": ch.med_compare(corr, lead), "med_thm38": ch.med_thm38(two, runs2)}
    for name, fig in figs.items():
        assert fig.get_figwidth() <= 8.0
        drawn = [ax for ax in fig.axes if ax.axison and ax.get_visible()]
        assert drawn and all(ax.get_xlabel() or ax.get_ylabel() for ax in drawn), name
        assert any(ax.get_xlabel() for ax in drawn) and any(ax.get_ylabel() for ax in drawn), name
        check_legible(fig, name)
        plt.close(fig)
    assert len(figs["med_fig5"].axes) == 4  # two panels, each with its twin axis
    d = ch.med_thm38_data(tr)
    assert np.allclose(d["bound"], 2 * np.sqrt(d["weight_norm"] / 11)) and (d["med"] < d["bound"]).all()
    assert set(ch.med_compare_data(corr, lead)["measure"]) == set(ch.MEASURES)
