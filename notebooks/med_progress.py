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
# # MED against the test loss through training (MED Fig. 5)
#
# **Claim ({cite:t}`gu2025beyond`, §§3–4 and §6, Fig. 5; Figs. 12–19 in the appendix).** The paper proposes the
# *main embedding difference* (MED) as a progress measure of grokking. MED follows from Thm 3.8: a small weight-decay
# term forces neighbouring embeddings close together. In Fig. 5 (addition, $p \in \{47, 97, 211, 379\}$, a random
# 30% of the pairs for training, the 1-layer transformer of §6.1) MED and the test loss have consistent trends, and
# Figs. 12–19 show the same for six other operations. The paper presents MED as tracing the test loss more
# accurately than the existing progress measures, but it gives no quantitative comparison (paper-med §7).
#
# :::{prf:definition} MED Def. 4.2: main embedding difference
# :label: med-def-med
# :nonumber:
#
# With $\phi^{(n)}$ the embedding map after $n$ epochs and the cyclic convention $\phi(p) := \phi(0)$,
# $\mathrm{MED}(n) = \frac1p \sum_{i=0}^{p-1} \lVert\phi^{(n)}(i+1) - \phi^{(n)}(i)\rVert_2$.
# Fig. 5 plots the sum without the $1/p$. The authors' code logs another normalisation
# (`calculate_embedding_diff`: the mean of $p-2$ differences, without the wrap and the last step).
# :::
#
# :::{prf:theorem} MED Thm 3.8: a small weight-decay term bounds MED
# :label: med-thm-3-8
# :nonumber:
#
# With $\phi(p) := \phi(0)$: when the weight-decay term $W$ is below a level $E$, there is a $\delta > 0$ with
# $\frac1p \sum_{i=0}^{p-1} \lVert\phi(i+1) - \phi(i)\rVert < \delta$. (The exact definitions of $W$ and $E$ could
# not be read; we take $W = \sum \lVert\theta\rVert^2$ over all weights, the term weight decay shrinks.)
# :::
#
# **What we compute.** The runs use the MED authors' transformer (`li2core.train.med_config`: 1 layer, 4 heads,
# ReLU, no LayerNorm, AdamW with betas (0.9, 0.98), a 10-step warm-up and weight decay {glue:text}`wd:g`, full batch,
# cross-entropy, the authors' random split). We train {glue:text}`seeds` seeds per case. At every evaluation we
# record MED as Def. 4.2 defines it and as the authors' code logs it, and beside them four other measures:
# the embedding norm $\lVert W_E\rVert_F$; the weight-decay term $W$; MED divided by the mean embedding row norm
# and the coefficient of variation of the consecutive gaps (these two tell ordering apart from plain norm decay,
# paper-med §3.1); and the Fourier purity of the operand embeddings (`W_purity`, the lowest-layer measure of the Li₂
# chapters). The rules below are fixed in `li2core.chapters.med_progress` before looking at this chapter's runs.
# (The ci setting itself was chosen from a few short probes of when the test accuracy rises; those probes also
# printed MED.)
#
# * **After the fit.** A run has fitted at its first evaluation with training accuracy
#   {glue:text}`fit_acc:g`. Every correlation is taken over the evaluations from that epoch to the end of the run.
# * **Consistent trends** (Fig. 5): a Spearman correlation of MED with the test loss of at least
#   {glue:text}`rho_thr:g`, in the median over the seeds, in every case (the same for Pearson).
# * **More accurately than other measures**: MED's median absolute Spearman correlation with the test loss is at
#   least that of the weight-decay term, the embedding norm and the Fourier purity, in every case.
# * **Which moves first**: the test loss falls from its post-fit peak to its minimum. For each measure we take the
#   first epoch in that window at which it has covered half of its change over the window. Its *lead* is the test
#   loss's half-change epoch minus its own; a positive lead means the measure moved first.
# * **A run groks** at its first evaluation with test accuracy at least {glue:text}`grok_thr:g`.
#
# **Settings of this build** ({glue:md}`profile` profile): {glue:md}`cases_md`; {glue:text}`epochs` epochs,
# AdamW lr {glue:text}`lr:g`, evaluated every {glue:text}`eval_every` epochs. The paper profile
# (`book/profiles/paper.yml`) runs Fig. 5 at the paper's four primes and Figs. 12–19 with the captions' settings,
# on the square split of the authors' `rec.py` with $k = 0$ (only the pair (0, 0) is forced into the test set), as
# the captions' "k = 0" suggests. Its runs with d_model 256 use d_mlp 1024: the authors' scripts take no
# arguments, so d_model is changed by editing the default of their `Config`, whose `d_mlp = 4*d_model` default
# then follows.

# %% tags=["parameters"]
cases = [{"op": "add", "p": 31, "train_frac": 0.6, "figure": "MED Fig. 5"}]  # op, p, train_frac (+ d_model ...)
d_model = 64  # embedding width (the paper: 128; 256 in Figs. 14, 17-19)
width = 256  # d_mlp, the MLP's hidden width (the paper: 512)
seeds = 3  # seeds 0..seeds-1 per case (a seed fixes the split and the initialisation)
epochs = 1000  # full-batch AdamW steps
lr = 3e-3  # AdamW learning rate (the paper: 1e-3)
weight_decay = 1.0  # AdamW weight decay (the paper's)
eval_every = 20  # evaluate accuracy, loss and the measures every this many epochs
snapshot_every = 20  # read the embedding (MED / row norm, gap CV) every this many epochs
threads = 1  # torch threads (one thread avoids contention on a shared 2-core machine); 0: the default
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/med_progress"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["med_fig5", "med_measures", "med_compare", "med_thm38"]  # declared outputs (PNG + CSV)

import time

import numpy as np
import pandas as pd
import torch

import li2core
from li2core import pages
from li2core.chapters import med_progress as ch
from li2core.checks import Checks
from li2core.pages import fmt_num, fmt_range, frame_markdown

t_start = time.time()
checks = Checks("med_progress", strict=strict)
if threads:
    torch.set_num_threads(int(threads))
torch.set_flush_denormal(True)
cases_ = ch.parse_cases(cases, d_model, width)
configs = ch.med_configs(cases_, seeds, epochs, eval_every, lr, weight_decay)
snaps = ch.snapshot_epochs(epochs, snapshot_every)
cases_md = "; ".join(f"{ch.case_label(c)} ({'width ' + str(c['width'])}"
                     + (f", as {c['figure']}" if c["figure"] else "") + ")" for c in cases_)
for name, value in dict(wd=weight_decay, seeds=seeds, fit_acc=ch.FIT_ACC, rho_thr=ch.CONSISTENT_RHO,
                        grok_thr=ch.GROK_THRESHOLD, profile=profile, cases_md=cases_md, epochs=epochs, lr=lr,
                        eval_every=eval_every, n_runs=len(configs)).items():
    pages.glue(name, value)
print(f"profile={profile}: {len(configs)} runs ({len(cases_)} cases x {seeds} seeds), {epochs} epochs")

# %% [markdown]
# ## 1. The runs
# All {glue:text}`n_runs` runs share one `li2core.train` call. Per run: the epoch at which it fitted its training
# set, the epoch at which it grokked, the post-fit peak and the minimum of its test loss, and its final accuracies.

# %%
t0 = time.time()
res = li2core.train(configs, device=device, metrics=ch.TRAIN_METRICS, snapshots=snaps)
print(f"{len(configs)} runs on {res.device} in {time.time() - t0:.1f} s")
trace = ch.trace_frame(res)
runs = ch.run_summary(trace)
pages.show_markdown(frame_markdown(runs.drop(columns=["run"]), digits=3))
fitted = runs["fit_epoch"].notna()
grokked = runs["grok_epoch"].notna()
fit_rng = fmt_range(runs["fit_epoch"], 3)
pages.glue("fit_md", ("epoch " if "–" not in fit_rng else "epochs ") + fit_rng)
pages.glue("grok_md", fmt_range(runs["grok_epoch"], 3))
pages.glue("n_grokked", int(grokked.sum()))

# %% [markdown]
# The runs fit their training sets at {glue:md}`fit_md`. {glue:text}`n_grokked` of {glue:text}`n_runs`
# grok within {glue:text}`epochs` epochs, at epochs {glue:md}`grok_md`.
#
# ## 2. MED and the test loss (MED Fig. 5)
#
# ```{glue:figure} med_fig5
# :name: fig-med-fig5
# :alt: One panel per case: the test loss of every seed on a log axis (black, left) and MED against the epoch on a right axis, Def. 4.2 as solid blue lines and the authors' code version as dashed orange lines, with grey vertical lines at the median fit and grokking epochs.
# :figwidth: 100%
#
# **MED Fig. 5 at this build's size.** Test loss (black, left, log axis) and MED (right axis) of every seed; blue:
# Def. 4.2, dashed orange: the authors' code version; grey dotted: the median fit epoch, grey dashed: the median
# grokking epoch. The paper plots the sum $p\cdot\mathrm{MED}$, which has the same shape.
# {download}`Data (CSV) <../figures/med_progress/med_fig5.csv>` ·
# {download}`image (PNG) <../figures/med_progress/med_fig5.png>`
# ```

# %%
pages.show_figure(ch.med_fig5(trace, runs), out_dir, "med_fig5", ch.med_fig5_data(trace))
corr = ch.correlations(trace, runs)
summ = ch.corr_summary(corr)
by = {m: summ[summ["measure"] == m].set_index("case") for m in ch.MEASURES}
med_s, med_p = by["med"]["spearman"], by["med"]["pearson"]
pages.glue("rho_med_md", "; ".join(f"{c}: {fmt_num(r['spearman'], 2)} (seeds {fmt_num(r['spearman_min'], 2)} to "
                                   f"{fmt_num(r['spearman_max'], 2)})" for c, r in by["med"].iterrows()))
pages.glue("pear_med_md", "; ".join(f"{c}: {fmt_num(r['pearson'], 2)} (seeds {fmt_num(r['pearson_min'], 2)} to "
                                    f"{fmt_num(r['pearson_max'], 2)})" for c, r in by["med"].iterrows()))
init = trace[trace["epoch"] == 0]
pages.glue("med0_md", fmt_range(init["med"], 3))
also = summ[(summ["measure"] != "med") & (summ["abs_spearman"] >= ch.CONSISTENT_RHO)]
pages.glue("also_md", "; ".join(f"{ch.MEASURE_LABELS[r.measure]} ({fmt_num(r.spearman, 2)}, seeds "
                                f"{fmt_num(r.spearman_min, 2)} to {fmt_num(r.spearman_max, 2)})"
                                for r in also.itertuples()) or "none")
e0 = [ch.init_med(int(res.configs[r].d_model), int(res.configs[r].M)) for r in init["run"]]
init_err = max(abs(float(m) - e[0]) / e[1] for m, e in zip(init["med"], e0))
pages.glue("med0_expected_md", fmt_range([e[0] for e in e0], 3))

# %% [markdown]
# At initialisation MED is {glue:md}`med0_md`; the expected value for the authors' initialisation is
# {glue:md}`med0_expected_md` (`init_med`: each gap is a scaled $\chi$ variable). After the fit, the Spearman
# correlation of MED with the test loss (median over the seeds, with the range) is {glue:md}`rho_med_md`. The
# Pearson correlation is {glue:md}`pear_med_md`. The other measures whose median absolute Spearman correlation
# with the test loss is at least {glue:text}`rho_thr:g` are (median Spearman, with the range over the seeds; a
# negative sign means the measure rises while the test loss falls): {glue:md}`also_md`.
#
# Per seed, every measure against the test loss after the fit (Spearman, Pearson, and the number of evaluations):

# %%
wide = corr.set_index(["case", "seed", "measure"])["spearman"].unstack("measure")[list(ch.MEASURES)]
wide.columns = [f"ρ {ch.MEASURE_LABELS[m]}" for m in ch.MEASURES]
pages.show_markdown(frame_markdown(wide, digits=2, index=True))
pages.show_markdown(frame_markdown(summ.assign(measure=summ["measure"].map(ch.MEASURE_LABELS))
                                   [["case", "measure", "spearman", "spearman_min", "spearman_max", "pearson",
                                     "pearson_min", "pearson_max", "seeds"]], digits=2))

# %% [markdown]
# ## 3. MED beside the embedding norm: ordering or norm decay?
# MED is a sum of distances between embedding rows, so it shrinks when the whole embedding shrinks, whether or not the
# rows become ordered. Two measures remove the scale. MED divided by the mean row norm is about $\sqrt2$ for rows in
# no particular order, and it falls only when neighbouring rows become more alike than random ones. The gap CV is
# zero when the points are equally spaced along their closed curve, the paper's "uniformity". We read them from
# weight snapshots every {glue:text}`snapshot_every` epochs.
#
# ```{glue:figure} med_measures
# :name: fig-med-measures
# :alt: One panel per case: the test loss as a thick black line and each measure (MED of Def. 4.2 and of the authors' code, MED over the mean row norm, the gap CV, the embedding norm, the weight-decay term and the Fourier purity) as coloured lines, each scaled to the range 0 to 1 over the epochs after the fit and averaged over the seeds.
# :figwidth: 100%
#
# **Every measure on one scale.** Each curve is min–max scaled over a run's post-fit evaluations, then averaged over
# the seeds; thick black: the test loss; MED solid blue, the embedding norm dotted. A measure that traces the test
# loss lies on the black curve; the Fourier purity rises while the loss falls.
# {download}`Data (CSV) <../figures/med_progress/med_measures.csv>` ·
# {download}`image (PNG) <../figures/med_progress/med_measures.png>`
# ```

# %%
pages.glue("snapshot_every", snapshot_every)
pages.show_figure(ch.med_measures(trace, runs), out_dir, "med_measures", ch.med_measures_data(trace, runs))
post = trace.merge(runs[["run", "fit_epoch"]], on="run")
post = post[post["epoch"] >= post["fit_epoch"]]
pages.glue("rel_md", fmt_range(post["med_rel"], 3))
pages.glue("cv_md", fmt_range(post["gap_cv"], 2))
for m in ("med_rel", "gap_cv", "emb_norm"):
    pages.glue(f"rho_{m}_md", fmt_range(by[m]["spearman"], 2))
spec = ch.final_spectrum(res)
pages.show_markdown(frame_markdown(spec.drop(columns=["run"]), digits=3))
parseval_err = float((spec["rms_ratio"] - spec["rms_ratio_direct"]).abs().max())
pages.glue("cv_random", ch.gap_cv_random(int(res.configs[0].d_model)))
pages.glue("d_model0", int(res.configs[0].d_model))
pages.glue("freqs_md", "; ".join(f"seed {r.seed}: k = {r.freqs} (shares {r.shares}; gap over radius "
                                 f"{r.gap_per_radius})" for r in spec.itertuples()))

# %% [markdown]
# After the fit, MED over the mean row norm stays within {glue:md}`rel_md`, and the gap CV within {glue:md}`cv_md`.
# Their median Spearman correlations with the test loss are {glue:md}`rho_med_rel_md` and {glue:md}`rho_gap_cv_md`.
# The embedding norm's is {glue:md}`rho_emb_norm_md` (ranges over the cases).
#
# The table above says why the ratio does not fall. By Parseval, the RMS gap over the RMS row norm is
# $\sqrt{\sum_k s_k\,(2 - 2\cos(2\pi k/p))}$, where $s_k$ is the share of the embedding's power at frequency $k$
# over the tokens (`rms_gap_ratio`; the columns `rms_ratio` and `rms_ratio_direct` agree). A circle at frequency
# $k$ has gap over radius $2\sin(\pi k/p)$, which is below $\sqrt2$ only for $k < p/4$. The final embeddings
# carry their power at {glue:md}`freqs_md`. High frequencies count as much as low ones, so an embedding made of
# Fourier circles is not "ordered" in MED's sense: consecutive tokens need not be close. The gap CV of unordered
# rows is already small, about {glue:text}`cv_random:.3f` at d_model {glue:text}`d_model0` (a scaled $\chi$
# variable), so it has little room to fall.
#
# ## 4. Does MED trace the test loss more accurately than other measures?
#
# ```{glue:figure} med_compare
# :name: fig-med-compare
# :alt: Two panels sharing the list of measures on the vertical axis. Left, the post-fit Spearman correlation of each measure with the test loss, one marker per run and a black bar at the median. Right, each measure's lead over the test loss in epochs while the test loss falls, one marker per run and a black bar at the median.
# :figwidth: 100%
#
# **The comparison, by the rules fixed above.** Left: the Spearman correlation with the test loss after the fit.
# Right: the lead of each measure's half-change epoch over the test loss's while the test loss falls (positive:
# the measure moves first). One marker per run; black bars: medians.
# {download}`Data (CSV) <../figures/med_progress/med_compare.csv>` ·
# {download}`image (PNG) <../figures/med_progress/med_compare.png>`
# ```

# %%
lead = ch.lead_frame(trace, runs)
pages.show_figure(ch.med_compare(corr, lead), out_dir, "med_compare", ch.med_compare_data(corr, lead))
lead_med = lead.groupby("measure")["lead"].median()
abs_rank = summ.groupby("measure")["abs_spearman"].min().sort_values(ascending=False)
gaps = {m: float((by["med"]["abs_spearman"] - by[m]["abs_spearman"]).min()) for m in ch.RIVALS}
pages.glue("rank_md", ", ".join(f"{ch.MEASURE_LABELS[m]} {fmt_num(v, 2)}" for m, v in abs_rank.items()))
pages.glue("lead_md", ", ".join(f"{ch.MEASURE_LABELS[m]} {fmt_num(lead_med[m], 3)}" for m in ch.MEASURES))
lead_tab = lead.groupby("measure", sort=False)[["t_half", "loss_half", "lead"]].median().reset_index()
pages.show_markdown(frame_markdown(lead_tab.assign(measure=lead_tab["measure"].map(ch.MEASURE_LABELS)), digits=3))

# %% [markdown]
# Ranked by their median absolute Spearman correlation with the test loss (the least over the cases; the signs are
# in the figure), the measures are: {glue:md}`rank_md`. The median leads over the test loss, in epochs, are {glue:md}`lead_md`.
#
# ## 5. MED and the weight-decay term (MED Thm 3.8)
# The triangle inequality and Cauchy–Schwarz make Thm 3.8 explicit:
# $\mathrm{MED} \le \frac2p \sum_i \lVert\phi(i)\rVert \le 2\sqrt{W/p}$, so a small weight-decay term $W$ bounds MED
# (`thm38_bound`). The bound says nothing about how closely MED follows $W$; the co-movement is measured separately.
#
# ```{glue:figure} med_thm38
# :name: fig-med-thm38
# :alt: MED against the weight-decay term on log axes, one line per run coloured by case, a square at the initialisation, an open ring at the fit epoch and a dot at the end of the run, with the bound two times the square root of W over p as a dashed grey line.
# :figwidth: 100%
#
# **MED Thm 3.8.** MED against the weight-decay term $W = \sum\lVert\theta\rVert^2$ along every run (square: the
# initialisation; ring: the fit epoch; dot: the end); dashed: the bound $2\sqrt{W/p}$.
# {download}`Data (CSV) <../figures/med_progress/med_thm38.csv>` ·
# {download}`image (PNG) <../figures/med_progress/med_thm38.png>`
# ```

# %%
pages.show_figure(ch.med_thm38(trace, runs), out_dir, "med_thm38", ch.med_thm38_data(trace))
bound = ch.med_thm38_data(trace)
slack = float((bound["med"] / bound["bound"]).max())
wcorr = ch.correlations(trace, runs, ["med"], against="weight_norm")
w_rho = wcorr.groupby("case")["spearman"].median()
pages.glue("slack", slack)
pages.glue("w_rho_md", fmt_range(wcorr["spearman"], 2))

# %% [markdown]
# MED stays below the bound everywhere; at most it reaches {glue:text}`slack:.3f` of it. After the fit, the Spearman
# correlation of MED with the weight-decay term is {glue:md}`w_rho_md` over the runs.
#
# **What this size cannot show.** {glue:md}`cannot_md`

# %%
acc_at_fit = [float(trace[(trace["run"] == r.run) & (trace["epoch"] == r.fit_epoch)]["test_acc"].iloc[0])
              for r in runs.itertuples() if r.fit_epoch == r.fit_epoch]
fracs_txt = ", ".join(format(c["train_frac"], "g") for c in cases_)
paper_like = all(c["p"] >= 47 and c["d_model"] >= 128 and c["train_frac"] <= 0.5 for c in cases_) and lr <= 1e-3
cannot = ("This build uses the paper's model sizes and learning rate; see the checks for what held."
          if paper_like else
          f"This build trains a smaller transformer (d_model {d_model}, width {width}; the paper: 128 and 512) on "
          f"p = {', '.join(str(c['p']) for c in cases_)} with a training fraction of "
          f"{fracs_txt} (the paper: 0.3) and AdamW lr {lr:g} (the paper: 0.001), so that a few seeds grok within "
          "the CPU budget: in a probe at the paper's learning rate (p = 31, frac 0.5, 1500 epochs, one seed) the small "
          "model had not grokked. It therefore cannot show Fig. 5's larger "
          "primes (47, 97, 211, 379), the paper's longer plateau before grokking (at this fraction the runs are "
          f"right on {fmt_range(acc_at_fit, 2)} of the test pairs when they fit, and the test loss falls steadily "
          "from the fit on, so any steadily moving measure correlates with it), or the other operations of "
          "Figs. 12-19. With "
          f"{seeds} seeds the spread of each correlation is known only roughly. The paper profile "
          "(book/profiles/paper.yml, for a GPU) runs Fig. 5 and Figs. 12-19 at the paper's settings.")
pages.glue("cannot_md", cannot)

# %% [markdown]
# ## Deviations from the paper
# These are collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb). They are
# declared for this book's ci profile; at another setting such a row becomes an undeclared claim, and if a declared
# deviation no longer shows, its row turns into a FAIL, which says that this page must be revisited.

# %%
#: The checks declared not to hold at this book's ci setting (static: seen at build); the reasons are written from
#: the measured numbers.
DEV_KEYS = {"rival_weight_norm", "rival_W_purity", "med_rel", "gap_cv", "lead"}
f2 = lambda x: fmt_num(x, 2)  # noqa: E731
fit_txt, pear = fmt_range(runs["fit_epoch"], 3), summ.groupby("measure")["pearson"].median()
n_rel_up = int((corr[corr["measure"] == "med_rel"]["spearman"] < 0).sum())
lead_med_t = float(lead[lead["measure"] == "med"]["t_half"].median())
lead_loss_t = float(lead[lead["measure"] == "med"]["loss_half"].median())


def rival_reason(m):
    return (f"MED's median absolute Spearman correlation with the test loss is {f2(by['med']['abs_spearman'].min())}, "
            f"the {ch.MEASURE_LABELS[m]}'s {f2(by[m]['abs_spearman'].min())} (difference {fmt_num(gaps[m], 2)}): a "
            f"tie at best. After the fit (at epoch {fit_txt}) the test loss falls steadily to the end of the run, so "
            "every measure that moves steadily after the fit reaches a rank correlation near 1, and the rule cannot "
            f"put MED ahead. The median Pearson correlations (not the rule) are MED {f2(pear['med'])}, "
            f"{ch.MEASURE_LABELS[m]} {f2(pear[m])}, embedding norm {f2(pear['emb_norm'])}. Likely reason: MED falls "
            "with the embedding's scale (section 3), and the other measures fall or rise as steadily")


DEV_TEXT = {
    "rival_weight_norm": rival_reason("weight_norm"),
    "rival_W_purity": rival_reason("W_purity"),
    "med_rel": (f"MED / mean row norm has median Spearman {f2(by['med_rel']['spearman'].min())} with the test loss "
                f"(seeds {f2(by['med_rel']['spearman_min'].min())} to {f2(by['med_rel']['spearman_max'].max())}) "
                f"and stays within {fmt_range(post['med_rel'], 3)} after the fit (unordered rows: about "
                f"{fmt_num(np.sqrt(2), 3)}). "
                f"It rises while the test loss falls in {n_rel_up} of {len(runs)} runs. MED's fall is the fall of the "
                "embedding's scale; neighbouring rows do not become more alike than random ones. Likely reason: the "
                "learned embeddings spread their power over low and high frequencies (top three: "
                f"{'; '.join(f'seed {r.seed}: k = {r.freqs}' for r in spec.itertuples())}, p = "
                f"{', '.join(str(c['p']) for c in cases_)}), and a Fourier circle at a high frequency puts "
                "consecutive tokens farther apart than unordered rows are"),
    "gap_cv": (f"the gap CV has median Spearman {f2(by['gap_cv']['spearman'].min())} with the test loss (seeds "
               f"{f2(by['gap_cv']['spearman_min'].min())} to {f2(by['gap_cv']['spearman_max'].max())}) and stays "
               f"within {fmt_range(post['gap_cv'], 2)}: the gaps do not become more equal as the test loss falls. "
               f"Likely reason: unordered rows already have a gap CV near {fmt_num(ch.gap_cv_random(d_model), 2)} "
               f"at d_model {d_model}, and a mixture of several frequencies is not equally spaced"),
    "lead": (f"MED covers half of its change while the test loss falls at epoch {fmt_num(lead_med_t, 3)} "
             f"(median), the test loss at {fmt_num(lead_loss_t, 3)}: MED "
             f"lags by {fmt_num(-lead_med['med'], 3)} epochs. No measure moves first: the median leads are "
             + ", ".join(f"{ch.MEASURE_LABELS[m]} {fmt_num(lead_med[m], 3)}" for m in ch.MEASURES)
             + ". Likely reason: on a linear scale (the rule's) the test loss falls fastest right after the fit, "
             "while MED and the norms shrink at the slower pace that weight decay sets"),
}
DEVIATIONS = {k: DEV_TEXT[k] for k in sorted(DEV_KEYS)}


def dev(key):
    return DEVIATIONS.get(key)


DEV_TITLES = {"rival_weight_norm": "MED does not trace the test loss more closely than the weight-decay term",
              "rival_W_purity": "MED does not trace the test loss more closely than the Fourier purity",
              "med_rel": "MED without the embedding's scale does not follow the test loss",
              "gap_cv": "the gaps do not become more equal as the test loss falls",
              "lead": "MED does not move before the test loss"}
DEV_CLAIMS = {"rival_weight_norm": "MED traces the test loss more accurately than other measures",
              "rival_W_purity": "MED traces the test loss more accurately than other measures",
              "med_rel": "MED measures the uniformity of the embedding (§4, Remark 3.9)",
              "gap_cv": "the weight-decay minimum has uniformly spaced embeddings (§4, Remark 3.9)",
              "lead": "a progress measure signals grokking (Def. 4.1)"}
for key, text in DEVIATIONS.items():
    pages.show_markdown(f"```{{admonition}} Deviation: {DEV_TITLES[key]}\n:class: warning\n"
                        f"**Claim:** {DEV_CLAIMS[key]}. **Computed:** {text}.\n```")

# %% tags=["checks"]
diff_def = float((trace["med"] - trace["med_snap"]).abs().max())
E_ok = []
for i, c in enumerate(res.configs):  # the identity p MED = (p-2) med_code + the two gaps med_code leaves out (d = 0)
    if c.token_offset == 0:
        E = res.final_weights(i)[0].double().T[: c.M]
        g = (E.roll(-1, 0) - E).norm(dim=1)
        E_ok.append(abs(float(c.M * g.mean() - (c.M - 2) * g[: c.M - 2].mean() - g[c.M - 2] - g[c.M - 1])))
checks.add("MED Def. 4.2: the trainer's MED equals MED recomputed from the weight snapshots (largest difference)",
           diff_def, diff_def <= 1e-5, threshold="≤ 1e-5", source="theory", paper="Def. 4.2", fmt=".1e")
checks.add("the authors' code version: p MED = (p-2) med_code + the last step + the wrap, on the final embeddings "
           "(largest difference)", max(E_ok) if E_ok else 0.0, (max(E_ok) if E_ok else 0.0) <= 1e-6,
           threshold="≤ 1e-6", source="theory", paper="calculate_embedding_diff (paper-med §3.2)", fmt=".1e")
checks.add("Parseval for the gaps: the RMS gap ratio from the frequency shares equals the direct one (largest "
           "difference)", parseval_err, parseval_err <= 1e-9, threshold="≤ 1e-9", source="theory",
           paper="— (explains MED / row norm)", fmt=".1e")
checks.add("MED at initialisation matches the chi-distribution mean (largest error, in units of the bound on its "
           "s.d.)", init_err,
           init_err <= 4.0, threshold="≤ 4", source="theory", paper="≈ 1.41 at init (paper-med §3.2)", fmt=".2f")
checks.add("every run fits its training set (least final training accuracy)", float(runs["final_train_acc"].min()),
           bool(fitted.all()) and float(runs["final_train_acc"].min()) >= 0.99,
           threshold="fit, and ≥ 0.99 at the end",
           source="fixed before looking", fmt=".3f")
checks.add("every run groks within the budget (runs that grokked)", f"{int(grokked.sum())} of {len(runs)}",
           bool(grokked.all()), threshold=f"all (test acc ≥ {ch.GROK_THRESHOLD:g})", source="fixed before looking",
           paper="grokking (Fig. 5)")
checks.add("MED Fig. 5: MED and the test loss have consistent trends after the fit (least over the cases of the "
           "median Spearman)", float(med_s.min()), float(med_s.min()) >= ch.CONSISTENT_RHO,
           threshold=f"≥ {ch.CONSISTENT_RHO:g}", source="fixed before looking", paper="consistent trends (Fig. 5)",
           fmt=".2f", deviation=dev("fig5_spearman"))
checks.add("MED Fig. 5: the same for the Pearson correlation", float(med_p.min()),
           float(med_p.min()) >= ch.CONSISTENT_RHO, threshold=f"≥ {ch.CONSISTENT_RHO:g}",
           source="fixed before looking", paper="consistent trends (Fig. 5)", fmt=".2f",
           deviation=dev("fig5_pearson"))
checks.add("MED Fig. 5: MED moves with the test loss in every seed (least Spearman over the runs)",
           float(corr[corr["measure"] == "med"]["spearman"].min()),
           float(corr[corr["measure"] == "med"]["spearman"].min()) > 0, threshold="> 0",
           source="fixed before looking", paper="consistent trends (Fig. 5)", fmt=".2f", deviation=dev("fig5_every"))
for m in ch.RIVALS:
    checks.add(f"MED traces the test loss at least as closely as the {ch.MEASURE_LABELS[m]} (least over the cases of "
               "the difference of the median absolute Spearman)", gaps[m], gaps[m] >= 0, threshold="≥ 0",
               source="paper", paper="MED traces the test loss more accurately", fmt=".3f",
               deviation=dev(f"rival_{m}"))
checks.add("MED is more than norm decay: MED / mean row norm moves with the test loss (least median Spearman)",
           float(by["med_rel"]["spearman"].min()), float(by["med_rel"]["spearman"].min()) >= ch.CONSISTENT_RHO,
           threshold=f"≥ {ch.CONSISTENT_RHO:g}", source="fixed before looking",
           paper="MED measures uniformity, not scale (§4, Remark 3.9)", fmt=".2f", deviation=dev("med_rel"))
checks.add("uniformity: the gap CV moves with the test loss (least median Spearman)",
           float(by["gap_cv"]["spearman"].min()), float(by["gap_cv"]["spearman"].min()) >= ch.CONSISTENT_RHO,
           threshold=f"≥ {ch.CONSISTENT_RHO:g}", source="fixed before looking",
           paper="uniform embeddings at the weight-decay minimum (§4)", fmt=".2f", deviation=dev("gap_cv"))
checks.add("MED does not lag the test loss while it falls (median lead, epochs)", float(lead_med["med"]),
           float(lead_med["med"]) >= 0, threshold="≥ 0", source="fixed before looking",
           paper="a progress measure signals grokking (Def. 4.1)", fmt=".0f", deviation=dev("lead"))
checks.add("MED Thm 3.8: MED ≤ 2 sqrt(W / p) at every evaluation (largest ratio)", slack, slack <= 1.0,
           threshold="≤ 1", source="theory", paper="W < E gives MED < δ (Thm 3.8)", fmt=".3f")
checks.add("MED Thm 3.8: MED moves with the weight-decay term after the fit (least median Spearman over the cases)",
           float(w_rho.min()), float(w_rho.min()) >= ch.CONSISTENT_RHO, threshold=f"≥ {ch.CONSISTENT_RHO:g}",
           source="fixed before looking", paper="Thm 3.8 pairs MED with the weight-decay term", fmt=".2f",
           deviation=dev("thm38_comove"))
checks.finish(out_dir)

# %%
pages.rerun_box("med_progress", globals(), profile, time.time() - t_start)
