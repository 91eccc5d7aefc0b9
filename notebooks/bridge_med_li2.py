# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # One network, two progress measures
#
# **The question.** Each of the two papers watches its own signal. {cite:t}`tian2025li2` follows the
# backpropagated gradient $G_F$ at the hidden layer: it is large while the features form (Stage II of Fig. 3,
# {prf:ref}`Thm 1 <thm-energy>`), and the hidden nodes climb the energy $E$ of Eq. 7. {cite:t}`gu2025beyond` follow
# MED ({prf:ref}`MED Def. 4.2 <med-def-med>`), the mean distance between the embeddings of consecutive tokens,
# as a progress measure of grokking (MED Def. 4.1) with "consistent trends" beside the test loss (MED Fig. 5).
# Neither paper looks at the other's quantity. Here both are measured **on the same runs**: MED of the Li₂
# two-layer net's hidden layer (the rows of $W$ as embeddings), and the Li₂ quantities on the first layer of the
# MED transformer. Two questions: does MED move before the test loss, and does the gradient peak before the
# features emerge? And by how many epochs, seed by seed?
#
# **The rules, fixed in `li2core.chapters.bridge_med_li2` before the chapter's runs were looked at.**
#
# * A run has *fitted* at its first evaluation with train accuracy ≥ {glue:text}`fit_acc:g` (Fig. 3's rule), and
#   *grokked* at its first with test accuracy ≥ {glue:text}`grok_thr:g`.
# * **The test loss's fall** is the window from its highest value after the fit to its lowest (the rule of
#   [the MED Fig. 5 chapter](med_progress.ipynb)). For every signal, its **half-move epoch** is the first epoch in
#   that window at which it has covered half of its change over the window (from its first to its last evaluation
#   inside the window: the signals read from weight snapshots have their own grid). The **lead** of a signal over the
#   test loss is the test loss's half-move epoch minus the signal's: positive when the signal moves first.
# * **The gradient leads feature emergence** when the epoch of the largest $\lVert G_F\rVert$ (over the run) comes
#   before the half-move epoch of the Fourier purity over the whole run (the purity of the lowest layer: $W$, or the
#   transformer's operand embeddings). The lag is the second epoch minus the first.
# * "Leads" means a positive lag in every seed; the sign is "consistent" when all seeds have the same sign.
# * Fig. 3's two stages are read as in [the Fig. 3 chapter](fig3_grokking.ipynb): the epochs at which the cosine
#   distances between consecutive $V$ and between consecutive $W$ peak.
#
# **What is measured where.** *Li₂ two-layer net* on $\mathbb{Z}_M$ ($\sigma(x) = x^2$, the author's `mse_class`
# loss, Adam, weight decay): MED of the rows $0..M-1$ of $W$ ($2M \times K$; $XW$ adds row $a$ and row $M+b$, so
# row $a$ is the embedding of the first operand $a$), $\lVert G_F\rVert$ of Eq. 2 and of the trained loss, the mean
# energy $E(w_j/\lVert w_j\rVert)$ of the active nodes on the training pairs, the Fourier purity of $W$, and
# Fig. 3's stages. *MED transformer* (1 layer, ReLU): MED of the embedding, $\lVert\partial L/\partial F\rVert_F$ at
# the hidden activations $F$ of its MLP layer on the training pairs (by autograd), the diagonality ratios of
# $\tilde F^\top\tilde F$ and $P_1^\perp FF^\top$ over all pairs, and the purity of the operand embeddings.
#
# **Settings of this build** ({glue:md}`profile` profile): {glue:md}`settings_md` The ci setting was chosen from
# short probes of when the test accuracy rises. One probe, at Fig. 3's CPU setting, also showed the Li₂ net's
# $\lVert G_F\rVert$ and purity curves before the rules were written. A first full run of the transformer at a
# smaller training fraction, in which one seed had not grokked by the end, made us raise the fraction to this
# build's value (the signs of its lags were the same); the rules did not change.

# %% tags=["parameters"]
M = 41  # Li2 net: group order (Z_M, modular addition); Fig. 3's CPU setting
width = 512  # Li2 net: hidden width K
train_frac = 0.4  # Li2 net: training fraction
li2_epochs = 400  # Li2 net: full-batch Adam steps
li2_lr = 1e-3  # Li2 net: Adam learning rate
li2_wd = 6e-4  # Li2 net: weight decay (Fig. 3's CPU value: the paper's effective ridge n wd / 2)
li2_eval_every = 5  # Li2 net: the trainer's metrics every this many epochs
li2_snapshot_every = 10  # Li2 net: weight snapshots (MED of W's rows, the node energy) every this many epochs
tf_p = 31  # transformer: the prime
tf_train_frac = 0.7  # transformer: training fraction (the paper: 0.3)
d_model = 32  # transformer: embedding width (the paper: 128)
tf_width = 128  # transformer: d_mlp (the paper: 512)
tf_epochs = 700  # transformer: full-batch AdamW steps
tf_lr = 3e-3  # transformer: AdamW learning rate (the paper: 1e-3)
tf_wd = 1.0  # transformer: AdamW weight decay (the paper's)
tf_eval_every = 10  # transformer: metrics and weight snapshots every this many epochs
seeds = 3  # seeds 0..seeds-1 for each net
threads = 1  # torch threads (one avoids contention on a shared 2-core machine); 0: the default
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/bridge_med_li2"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["bridge_li2_course", "bridge_tf_course", "bridge_lags"]  # declared outputs (PNG + CSV)

import time

import numpy as np
import pandas as pd
import torch

import li2core
from li2core import measures, pages
from li2core.chapters import bridge_med_li2 as ch
from li2core.checks import Checks
from li2core.pages import fmt_num, fmt_range, frame_markdown

t_start = time.time()
checks = Checks("bridge_med_li2", strict=strict)
if threads:
    torch.set_num_threads(int(threads))
torch.set_flush_denormal(True)
li2_cfgs = ch.li2_configs(M, width, train_frac, seeds, li2_epochs, li2_lr, li2_wd, li2_eval_every)
tf_cfgs = ch.tf_configs(tf_p, tf_train_frac, d_model, tf_width, seeds, tf_epochs, tf_lr, tf_wd, tf_eval_every)
settings_md = (f"Li₂ net: Z{M}, K = {width}, training fraction {train_frac:g} (n = {li2_cfgs[0].n_train}), Adam lr "
               f"{li2_lr:g}, weight decay {li2_wd:g}, {li2_epochs} epochs, evaluated every {li2_eval_every} "
               f"(weights read every {li2_snapshot_every}); MED "
               f"transformer: addition mod {tf_p}, training fraction {tf_train_frac:g}, d_model {d_model}, d_mlp "
               f"{tf_width}, AdamW lr {tf_lr:g}, weight decay {tf_wd:g}, {tf_epochs} epochs, evaluated every "
               f"{tf_eval_every}; {seeds} seeds each.")
for name, value in dict(fit_acc=ch.FIT_ACC, grok_thr=ch.GROK_THRESHOLD, profile=profile, settings_md=settings_md,
                        seeds=seeds, active=ch.ACTIVE_FRAC).items():
    pages.glue(name, value)
print(f"profile={profile}: {2 * seeds} runs ({seeds} Li2 nets, {seeds} transformers)")

# %% [markdown]
# ## 1. The runs
# Each net's seeds train in one `li2core.train` call, with a copy of the weights at every evaluation. Per run: the
# fit and grokking epochs, the test loss's fall and every event of the rules.

# %%
t0 = time.time()
res_l = li2core.train(li2_cfgs, device=device, snapshots=ch.eval_epochs(li2_epochs, li2_snapshot_every),
                      metrics=("G_F_norm", "G_F_loss_norm", "dW_cos_dist", "dV_cos_dist", "W_purity"))
res_t = li2core.train(tf_cfgs, device=device, snapshots=ch.eval_epochs(tf_epochs, tf_eval_every),
                      metrics=("med", "W_purity", "emb_norm"))
tr_l, tr_t = ch.li2_trace(res_l), ch.tf_trace(res_t)
print(f"{len(li2_cfgs) + len(tf_cfgs)} runs and their snapshot measures on {res_l.device} in "
      f"{time.time() - t0:.1f} s")
ev_l = ch.run_events(tr_l, ch.LI2_SIGNALS, ch.GRADIENT["li2"])
ev_t = ch.run_events(tr_t, ch.TF_SIGNALS, ch.GRADIENT["tf"])
EVENT_COLS = ["seed", "fit", "grok", "fall_start", "fall_end", "peak_grad", "feature"]
pages.show_markdown("**Li₂ two-layer net** (epochs; `peak_dV`, `peak_dW`: Fig. 3's stages)\n\n"
                    + frame_markdown(ev_l[EVENT_COLS + ["peak_dV", "peak_dW"]
                                          + [f"half_{s}" for s in ch.LI2_SIGNALS]], digits=4))
pages.show_markdown("**MED transformer** (epochs)\n\n"
                    + frame_markdown(ev_t[EVENT_COLS + [f"half_{s}" for s in ch.TF_SIGNALS]], digits=4))
fin_l = tr_l[tr_l["epoch"] == li2_epochs].set_index("seed")
fin_t = tr_t[tr_t["epoch"] == tf_epochs].set_index("seed")
at_fit = [float(tr_l[(tr_l["seed"] == e.seed) & (tr_l["epoch"] == e.fit)]["test_acc"].iloc[0])
          for e in ev_l.itertuples() if np.isfinite(e.fit)]
at_fit_t = [float(tr_t[(tr_t["seed"] == e.seed) & (tr_t["epoch"] == e.fit)]["test_acc"].iloc[0])
            for e in ev_t.itertuples() if np.isfinite(e.fit)]
for name, value in dict(fit_l=fmt_range(ev_l["fit"], 3), grok_l=fmt_range(ev_l["grok"], 3),
                        fall_l=fmt_range(ev_l["fall_start"], 3),
                        fit_t=fmt_range(ev_t["fit"], 3), grok_t=fmt_range(ev_t["grok"], 3),
                        acc_fit_l=fmt_range(at_fit, 2), acc_fit_t=fmt_range(at_fit_t, 2),
                        stage1=fmt_range(ev_l["peak_dV"], 3), stage2=fmt_range(ev_l["peak_dW"], 3),
                        final_t=fmt_range(fin_t["test_acc"], 3)).items():
    pages.glue(name, value)

# %% [markdown]
# The Li₂ nets fit their training sets at epoch {glue:md}`fit_l`, with test accuracy {glue:md}`acc_fit_l` then, and
# grok at epochs {glue:md}`grok_l`. Fig. 3's two stages: $\Delta V$ peaks at epoch {glue:md}`stage1`, $\Delta W$ at
# {glue:md}`stage2`; the test loss's fall starts at epoch {glue:md}`fall_l`. The transformers fit at epochs {glue:md}`fit_t` (test
# accuracy {glue:md}`acc_fit_t`) and grok at epochs {glue:md}`grok_t` (final test accuracy {glue:md}`final_t`).
#
# ## 2. The Li₂ net seen by MED
#
# ```{glue:figure} bridge_li2_course
# :name: fig-bridge-li2-course
# :alt: Six panels sharing the epoch axis for the Li2 two-layer net, one line per seed: test accuracy, test loss, MED of the first operand's rows of W, the norm of G_F of Eq. 2, the Fourier purity of W and the mean energy of the active nodes; a dot marks each seed's event on its curve, a grey dashed line the median half-move epoch of the test loss and a grey dotted line the Stage II peak.
# :figwidth: 100%
#
# **The Li₂ net, both papers' signals.** One line per seed. Dots: each seed's event (test accuracy: grokking;
# $\lVert G_F\rVert$: its peak; purity: its half-move over the run; the others: their half-move in the test loss's
# fall). Grey dashed: the median half-move epoch of the test loss; grey dotted: the median Stage II peak of Fig. 3.
# {download}`Data (CSV) <../figures/bridge_med_li2/bridge_li2_course.csv>` ·
# {download}`image (PNG) <../figures/bridge_med_li2/bridge_li2_course.png>`
# ```

# %%
pages.show_figure(ch.course_figure(tr_l, ev_l, "li2"), out_dir, "bridge_li2_course", ch.course_data(tr_l, "li2"))
lags = pd.concat([ch.lag_frame(ev_l, ch.LI2_SIGNALS, ch.GRADIENT["li2"], "li2"),
                  ch.lag_frame(ev_t, ch.TF_SIGNALS, ch.GRADIENT["tf"], "tf")], ignore_index=True)
summ = ch.lag_summary(lags).set_index(["net", "comparison"])


def lag_md(net, comp):
    r = summ.loc[(net, comp)]
    per = lags[(lags["net"] == net) & (lags["comparison"] == comp)]["lag"]
    return (f"{fmt_num(r['mean'], 3)} ± {fmt_num(r['sd'], 2)} epochs (mean ± s.d.; seeds: "
            f"{', '.join(fmt_num(v, 3) for v in per)})")


fall_l = tr_l.merge(ev_l[["run", "fall_start", "fall_end"]], on="run")
fall_l = fall_l[(fall_l["epoch"] >= fall_l["fall_start"]) & (fall_l["epoch"] <= fall_l["fall_end"])]
rho_norm = [measures.spearman(d["med_W"], d["row_norm"]) for _, d in fall_l.groupby("run")]
rho_loss = [measures.spearman(d["med_W"], d["test_loss"]) for _, d in fall_l.groupby("run")]
e0 = tr_l[tr_l["epoch"] == 0].set_index("seed")
for name, value in dict(lead_med_l=lag_md("li2", "lead_med_W"), gf_l=lag_md("li2", "grad_feature"),
                        lead_gf_l=lag_md("li2", "lead_G_F_norm"), lead_E_l=lag_md("li2", "lead_energy"),
                        lead_pur_l=lag_md("li2", "lead_W_purity"), rho_norm=fmt_range(rho_norm, 3),
                        rho_loss=fmt_range(rho_loss, 2), med0_l=fmt_range(e0["med_W"], 3),
                        medmax_l=fmt_range(tr_l.groupby("seed")["med_W"].max(), 3),
                        medmax_ep=fmt_range([ch.peak_at(d["epoch"].to_numpy(float), d["med_W"].to_numpy(float), 0)
                                             for _, d in tr_l.dropna(subset=["med_W"]).groupby("seed")], 3),
                        medend_l=fmt_range(fin_l["med_W"], 3), E0=fmt_range(e0["energy"], 3),
                        E1=fmt_range(fin_l["energy"], 3)).items():
    pages.glue(name, value)

# %% [markdown]
# MED of $W$'s rows is {glue:md}`med0_l` at initialisation, reaches its largest value, {glue:md}`medmax_l`, at
# epoch {glue:md}`medmax_ep` (the fit: epoch {glue:md}`fit_l`) and ends at {glue:md}`medend_l`. In the test loss's
# fall its Spearman correlation with the mean row norm of $W$ is {glue:md}`rho_norm` over the seeds, with the test
# loss {glue:md}`rho_loss`. Its lead over the test loss is {glue:md}`lead_med_l`. The leads of the Li₂ signals over
# the test loss: $\lVert G_F\rVert$ (Eq. 2) {glue:md}`lead_gf_l`; the node energy {glue:md}`lead_E_l` (from
# {glue:md}`E0` at initialisation to {glue:md}`E1` at the end); the Fourier purity {glue:md}`lead_pur_l`. The
# lag from the gradient's peak to the purity's half-move is {glue:md}`gf_l`.
#
# ## 3. The MED transformer seen by Li₂
# The gradient at the MLP layer is taken by autograd through `transformer_logits(..., hidden=...)`; in a 1-layer
# transformer it equals the chain rule written out, $\partial L/\partial F = (\partial L/\partial O)\,W_U^\top
# W_{\rm out}$, which the checks compare on the final weights.
#
# ```{glue:figure} bridge_tf_course
# :name: fig-bridge-tf-course
# :alt: Six panels sharing the epoch axis for the MED transformer, one line per seed: test accuracy, test loss on a log axis, MED of the embedding, the norm of the loss gradient at the MLP hidden layer on a log axis, the Fourier purity of the operand embeddings, and the two diagonality ratios of the hidden features with a dotted line at 8 percent; dots mark each seed's event and a grey dashed line the median half-move epoch of the test loss.
# :figwidth: 100%
#
# **The MED transformer, both papers' signals.** As {numref}`fig-bridge-li2-course`: one line per seed, dots at
# each seed's event; bottom right: the diagonality of the hidden features ($\tilde F^\top\tilde F$ solid,
# $P_1^\perp FF^\top$ dashed, Li₂'s 8% dotted).
# {download}`Data (CSV) <../figures/bridge_med_li2/bridge_tf_course.csv>` ·
# {download}`image (PNG) <../figures/bridge_med_li2/bridge_tf_course.png>`
# ```

# %%
pages.show_figure(ch.course_figure(tr_t, ev_t, "tf"), out_dir, "bridge_tf_course", ch.course_data(tr_t, "tf"))
upto = tr_t.merge(ev_t[["run", "grok"]], on="run")
upto = upto[upto["epoch"] <= upto["grok"].fillna(tf_epochs)]
ftf_max = float(upto.groupby("epoch")["ftf1"].mean().max())
fft_max = float(upto.groupby("epoch")["fft1"].mean().max())
for name, value in dict(lead_med_t=lag_md("tf", "lead_med"), gf_t=lag_md("tf", "grad_feature"),
                        lead_gf_t=lag_md("tf", "lead_G_F1_norm"), lead_pur_t=lag_md("tf", "lead_W_purity"),
                        lead_ftf_t=lag_md("tf", "lead_ftf1"), ftf_max=fmt_num(ftf_max, 3),
                        fft_max=fmt_num(fft_max, 3)).items():
    pages.glue(name, value)

# %% [markdown]
# MED's lead over the test loss is {glue:md}`lead_med_t`. The first-layer gradient's lead over the test loss is
# {glue:md}`lead_gf_t`; the lag from its peak to the embeddings' purity half-move is {glue:md}`gf_t`, and the
# purity's own lead over the test loss is {glue:md}`lead_pur_t`. Up to grokking the seed-mean off-diagonal to diagonal ratio reaches {glue:md}`ftf_max` for $\tilde F^\top\tilde F$ and
# {glue:md}`fft_max` for $P_1^\perp FF^\top$ (Li₂: up to 0.08 in its own net).
#
# ## 4. Who moves first
#
# ```{glue:figure} bridge_lags
# :name: fig-bridge-lags
# :alt: Two panels, the Li2 net above and the MED transformer below; each row is one comparison (each signal's lead over the test loss, and the gradient peak before the purity half-move), with one marker per seed at its lag in epochs, a black bar at the mean and a grey line at zero.
# :figwidth: 100%
#
# **The lags, seed by seed.** Positive: the first-named signal moves first. Black bars: the means.
# {download}`Data (CSV) <../figures/bridge_med_li2/bridge_lags.csv>` ·
# {download}`image (PNG) <../figures/bridge_med_li2/bridge_lags.png>`
# ```

# %%
pages.show_figure(ch.lag_figure(lags), out_dir, "bridge_lags", ch.lag_figure_data(lags))
tab = summ.reset_index()
tab = tab.assign(net=tab["net"].map(ch.NETS),
                 comparison=[ch.comparison_label(r).replace("\n", " ")
                             for r in lags.drop_duplicates(["net", "comparison"]).itertuples()])
pages.show_markdown(frame_markdown(tab[["net", "comparison", "mean", "sd", "min", "max", "n_pos", "n_neg",
                                        "n_seeds"]], digits=3))

# %% [markdown]
# **The answer at this size.** {glue:md}`answer_md`
#
# **What this size cannot show.** {glue:md}`cannot_md`

# %%
key = lambda net, comp: summ.loc[(net, comp)]  # noqa: E731
med_l, med_t, gf_l, gf_t = (key("li2", "lead_med_W"), key("tf", "lead_med"), key("li2", "grad_feature"),
                            key("tf", "grad_feature"))


def verdict(r, yes, no):
    return yes if r["leads"] else (no if r["same_sign"] and r["n_neg"] else "has mixed signs against")


fall_t = tr_t.merge(ev_t[["run", "fall_start", "fall_end"]], on="run")
fall_t = fall_t[(fall_t["epoch"] >= fall_t["fall_start"]) & (fall_t["epoch"] <= fall_t["fall_end"])]
rho_norm_t = [measures.spearman(d["med"], d["emb_norm"]) for _, d in fall_t.groupby("run")]
pages.glue("rho_norm_t", fmt_range(rho_norm_t, 2))
answer = (f"MED {verdict(med_l, 'leads', 'lags')} the test loss in the Li₂ net and "
          f"{verdict(med_t, 'leads', 'lags')} it in the transformer; the gradient "
          f"{verdict(gf_l, 'peaks before', 'peaks after')} feature emergence in the Li₂ net and "
          f"{verdict(gf_t, 'peaks before', 'peaks after')} it in the transformer (by the rules above). ")
if gf_l["leads"] and gf_t["leads"] and not med_l["leads"] and not med_t["leads"]:
    answer += ("So at this size the Li₂ gradient is the early signal in both networks, and MED is a late one in "
               "both. While the test loss falls, MED moves with the scale of what it is computed on: its Spearman "
               f"correlation with the mean row norm of W is {fmt_range(rho_norm, 3)} in the Li₂ net, with the "
               f"embedding norm {fmt_range(rho_norm_t, 3)} in the transformer.")
else:
    answer += "The two papers' signals do not order the same way in the two networks at this size."
pages.glue("answer_md", answer)
cannot = (f"Three seeds per net give the sign of each lag and a rough spread, not a distribution. The nets are small "
          f"(Li₂: M = {M}, K = {width}; the paper's Fig. 3: M = 71, K = 2048, 15 seeds) and the transformer departs "
          f"from the MED paper's setting in four ways to grok within the CPU budget: p = {tf_p} (the paper: 97), "
          f"training fraction {tf_train_frac:g} (0.3), d_model {d_model} and d_mlp {tf_width} (128 and 512), AdamW "
          f"lr {tf_lr:g} (0.001). At this fraction the transformer is right on {fmt_range(at_fit_t, 2)} of the test "
          "pairs when it fits, so its plateau is short; the paper's long plateau (thousands of epochs at p = 97) "
          "could separate the signals by more, or reorder them. "
          + (f"The Li₂ net's test loss is still falling at its last epoch ({li2_epochs}) in "
             f"{int((ev_l['fall_end'] == li2_epochs).sum())} of {seeds} seeds, so there the fall window ends with the "
             "run, and a longer run moves every half-move epoch in it. " if (ev_l["fall_end"] == li2_epochs).any()
             else "")
          + "The evaluation grid "
          f"({li2_eval_every} epochs, {li2_snapshot_every} for MED and the energy, in the Li₂ net; "
          f"{tf_eval_every} in the transformer) bounds how finely a lag is resolved. The paper profile "
          "(book/profiles/paper.yml, for a GPU) runs both nets at the papers' sizes.")
pages.glue("cannot_md", cannot)

# %% [markdown]
# ## Deviations from the papers
# Collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb). They are declared
# for this book's ci profile; if a declared deviation no longer shows, its row turns into a FAIL.

# %%
#: The checks declared not to hold at this book's ci setting (static: seen at build); the texts are written from the
#: measured numbers.
DEV_KEYS = {"med_li2", "med_tf", "ftf", "fft"}
ep_md = lambda ev, col: ", ".join(fmt_num(v, 3) for v in ev[col])  # noqa: E731
f2 = lambda x: fmt_num(x, 2)  # noqa: E731
init_t = tr_t[tr_t["epoch"] == 0]
DEV_TEXT = {
    "med_li2": (f"in the test loss's fall, MED of W's rows covers half of its change at epochs "
                f"{ep_md(ev_l, 'half_med_W')}, the test loss at {ep_md(ev_l, 'half_test_loss')}: MED's lead is "
                f"{lag_md('li2', 'lead_med_W')}. MED rises from {fmt_range(e0['med_W'], 3)} to "
                f"{fmt_range(tr_l.groupby('seed')['med_W'].max(), 3)} while the net memorises and then falls with "
                f"the mean row norm of W (Spearman {fmt_range(rho_norm, 2)}). Likely reason: MED is a sum of "
                "distances between rows, so it follows the scale of W, which weight decay shrinks at its own slow "
                "pace once the features have formed; the Li₂ signals (the gradient, the energy, the purity) move "
                "earlier"),
    "med_tf": (f"MED of the embedding covers half of its change in the test loss's fall at epochs "
               f"{ep_md(ev_t, 'half_med')}, the test loss at {ep_md(ev_t, 'half_test_loss')}: MED's lead is "
               f"{lag_md('tf', 'lead_med')}. In the fall MED moves with the embedding norm (Spearman "
               f"{fmt_range(rho_norm_t, 2)}). Likely reason: as in the MED Fig. 5 chapter, the test loss falls "
               "fastest right after the fit, while MED shrinks with the embedding's scale at the pace weight decay "
               "sets"),
    "ftf": (f"up to grokking the seed-mean ratio of the transformer's hidden features reaches {f2(ftf_max)} "
            f"(at initialisation {fmt_range(init_t['ftf1'], 2)}; Li₂'s own net: up to 0.08). Likely reason: "
            "Li₂'s near-diagonal form is derived for its own net (σ(x) = x², no biases, one-hot inputs) in Stages "
            "I–II; the transformer's ReLU units with biases, fed by attention-mixed embeddings, share directions "
            "from the start"),
    "fft": (f"up to grokking the seed-mean ratio reaches {f2(fft_max)} (at initialisation "
            f"{fmt_range(init_t['fft1'], 2)}). Likely reason: as for F̃ᵀF̃"),
}
DEV_TITLES = {"med_li2": "MED does not move before the test loss in the Li₂ net",
              "med_tf": "MED does not move before the test loss in the MED transformer",
              "ftf": "the transformer's hidden features are not near-diagonal (F̃ᵀF̃)",
              "fft": "the transformer's hidden features are not near-diagonal (P⊥FFᵀ)"}
DEV_CLAIMS = {"med_li2": "a progress measure signals grokking (MED Def. 4.1), here on the Li₂ net's hidden layer",
              "med_tf": "a progress measure signals grokking (MED Def. 4.1; MED Fig. 5)",
              "ftf": "the hidden features' Gram matrix stays diagonal up to 8% (Li₂ Fig. 3, its own net)",
              "fft": "P⊥FFᵀ stays diagonal up to 8% (Li₂ Fig. 3, its own net)"}
DEVIATIONS = {k: DEV_TEXT[k] for k in sorted(DEV_KEYS)}


def dev(k):
    return DEVIATIONS.get(k)


for k, text in DEVIATIONS.items():
    pages.show_markdown(f"```{{admonition}} Deviation: {DEV_TITLES[k]}\n:class: warning\n"
                        f"**Claim:** {DEV_CLAIMS[k]}. **Computed:** {text}.\n```")

# %% tags=["checks"]
# the identities first: the MED of the snapshots is the trainer's, and autograd's G_F is the chain rule's
diff_med = float((tr_t["med"] - tr_t["med_snap"]).abs().max())
gf_err = 0.0
for i, c in enumerate(res_t.configs):
    task = li2core.tasks.make_task(c.group, op=c.op)
    rows = ch.train_rows(c)
    tok = li2core.models.transformer.tokens(task.a, task.b, c.M, c.token_offset)[rows]
    _, G = ch.first_layer_gradient(res_t.final_weights(i), c, tok, task.y[rows])
    G2 = ch.first_layer_gradient_closed(res_t.final_weights(i), c, tok, task.y[rows])
    gf_err = max(gf_err, float((G - G2).norm() / G2.norm()))
checks.add("MED Def. 4.2: MED recomputed from the transformer's weight snapshots equals the trainer's (largest "
           "difference)", diff_med, diff_med <= 1e-5, threshold="≤ 1e-5", source="theory", paper="MED Def. 4.2",
           fmt=".1e")
checks.add("the first-layer G_F by autograd equals the chain rule (∂L/∂O) W_Uᵀ W_out, final weights (largest "
           "relative difference)", gf_err, gf_err <= 1e-9, threshold="≤ 1e-9", source="theory",
           paper="Eq. 2's G_F, at the transformer's hidden layer", fmt=".1e")
fin_acc_l, fin_acc_t = float(fin_l["test_acc"].min()), float(fin_t["test_acc"].min())
checks.add("Li₂ net: every seed groks (least final test accuracy)", fin_acc_l, fin_acc_l >= ch.GROK_THRESHOLD,
           threshold=f"≥ {ch.GROK_THRESHOLD:g}", source="fixed before looking", paper="Fig. 3: ~100%", fmt=".3f",
           deviation=dev("grok_l"))
checks.add("Li₂ net: generalisation is delayed (largest test accuracy at the fit)", max(at_fit), max(at_fit) <= 0.5,
           threshold="≤ 0.5", source="fixed before looking", paper="Fig. 3: test accuracy rises after the fit",
           fmt=".2f", deviation=dev("delay_l"))
checks.add("MED transformer: every seed groks (least final test accuracy)", fin_acc_t,
           fin_acc_t >= ch.GROK_THRESHOLD, threshold=f"≥ {ch.GROK_THRESHOLD:g}", source="fixed before looking",
           paper="grokking (MED Fig. 5)", fmt=".3f", deviation=dev("grok_t"))
stages_ok = bool((ev_l["peak_dV"] < ev_l["peak_dW"]).all())
checks.add("Fig. 3's two stages: ΔV peaks before ΔW in every seed (epochs)",
           f"V {fmt_range(ev_l['peak_dV'], 3)}, W {fmt_range(ev_l['peak_dW'], 3)}", stages_ok,
           threshold="V before W, every seed", source="paper", paper="Fig. 3: a big V update, then a big W update",
           deviation=dev("stages"))
dE = (fin_l["energy"] - e0["energy"])
checks.add("Li₂ Thm 1: the mean energy of the active nodes rises from the start to the end (least rise)",
           float(dE.min()), bool((dE > 0).all()), threshold="> 0, every seed", source="theory",
           paper="Thm 1: Stage II is gradient ascent on E", fmt=".3f", deviation=dev("energy"))
for net, r, what in (("li2", gf_l, "‖G_F‖ (Eq. 2)"), ("tf", gf_t, "the first-layer ‖∂L/∂F‖")):
    checks.add(f"{ch.NETS[net]}: {what} peaks before feature emergence (purity half-move), in every seed (mean "
               "lag, epochs)", float(r["mean"]), bool(r["leads"]), threshold="lag > 0, every seed",
               source="paper", paper="Li₂ §2: G_F drives Stage II (feature emergence)", fmt=".0f",
               deviation=dev(f"grad_{net}"))
    checks.add(f"{ch.NETS[net]}: the sign of that lag is the same in every seed (seeds > 0 / < 0)",
               f"{int(r['n_pos'])} / {int(r['n_neg'])}", bool(r["same_sign"]), threshold="one sign",
               source="fixed before looking", deviation=dev(f"grad_sign_{net}"))
for net, r in (("li2", med_l), ("tf", med_t)):
    checks.add(f"{ch.NETS[net]}: MED moves before the test loss in every seed (mean lead, epochs)",
               float(r["mean"]), bool(r["leads"]), threshold="lead > 0, every seed", source="paper",
               paper="MED Def. 4.1: a progress measure signals grokking; MED Fig. 5", fmt=".0f",
               deviation=dev(f"med_{net}"))
    checks.add(f"{ch.NETS[net]}: the sign of MED's lead is the same in every seed (seeds > 0 / < 0)",
               f"{int(r['n_pos'])} / {int(r['n_neg'])}", bool(r["same_sign"]), threshold="one sign",
               source="fixed before looking", deviation=dev(f"med_sign_{net}"))
checks.add("MED transformer: the hidden features' F̃ᵀF̃ stays diagonal up to grokking (largest seed-mean "
           "off-diag / diag)", ftf_max, ftf_max <= ch.DIAG_MAX, threshold=f"≤ {ch.DIAG_MAX:g}", source="paper",
           paper="Li₂ Fig. 3: diagonal up to 8% (its own net)", fmt=".3f", deviation=dev("ftf"))
checks.add("MED transformer: the hidden features' P⊥FFᵀ stays diagonal up to grokking (largest seed-mean "
           "off-diag / diag)", fft_max, fft_max <= ch.DIAG_MAX, threshold=f"≤ {ch.DIAG_MAX:g}", source="paper",
           paper="Li₂ Fig. 3: diagonal up to 8% (its own net)", fmt=".3f", deviation=dev("fft"))
checks.finish(out_dir)

# %%
pages.rerun_box("bridge_med_li2", globals(), profile, time.time() - t_start)
