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
# # Notes on the paper
#
# Every place where a literal computation disagrees with a statement or a constant printed in
# {cite:t}`tian2025li2` (v5), in two tables.
#
# 1. **The deviations the chapters declare.** Each chapter checks its claims in a checks table and writes it to
#    `checks.json` when it runs; the book build runs this page last and reads those files. A deviation is stated
#    once, in its chapter, next to the computation that measures it, and appears here as that chapter wrote it: one
#    source of truth, so this page cannot drift from the chapters.
# 2. **Rows recomputed on this page** from `li2core`: constants, counts and scopes that need no training. Every
#    number in this table is computed in the cells below, and the checks table at the end holds each of them against
#    the paper.
#
# None of these changes *where* the paper's maxima sit or the shape of its scaling law; most are constants,
# counts or the scope of a statement.

# %% tags=["parameters"]
M_odd = 23  # odd group order for the Z_M rows
M_even = 12  # even group order for the Z_M rows
M_small = 7  # group order of the memorisation-width rows (M^2 one-pair nodes)
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/notes_on_the_paper"
profile = "custom"

# %%
FIGURES = ["notes_energy_ratio"]  # declared outputs: <out_dir>/<name>.png and <name>.csv

import time
from pathlib import Path

from li2core import groups, pages
from li2core.chapters import notes_on_the_paper as ch
from li2core.checks import Checks
from li2core.pages import markdown_table

t_start = time.time()
checks = Checks("notes_on_the_paper", strict=strict)
G_odd, G_even = groups.make(f"Z{M_odd}"), groups.make(f"Z{M_even}")  # validates the parameters
if M_odd % 2 == 0 or M_even % 2 or M_small < 2:
    raise ValueError(f"M_odd, M_even, M_small: need odd M_odd, even M_even, M_small >= 2; got {M_odd}, {M_even}, "
                     f"{M_small}")
chapters = ch.book_chapters()  # (stem, title) of every chapter, in the book's order
titles = dict(chapters)
figures_dir = Path(out_dir).parent  # the chapters write <figures>/<stem>/checks.json
for name, value in dict(M_odd=M_odd, M_even=M_even, M_small=M_small, profile=profile,
                        n_chapters=len(chapters)).items():
    pages.glue(name, value)

# %% [markdown]
# ## 1. The deviations the chapters declare
# Read from the `checks.json` of each of the {glue:text}`n_chapters` chapters; {glue:md}`built_phrase` A chapter
# "not built in this run" had no `checks.json` when this page ran (the page was built alone, or the chapter does
# not write its checks table yet); its deviations then show on its own page only.

# %%
found = ch.chapter_checks(figures_dir, chapters)
n_built = sum(v is not None for v in found.values())
n_dev = sum(c["status"] == "DEVIATION" for v in found.values() if v for c in v)
pages.glue("built_phrase", f"{n_built} of them wrote one, declaring {n_dev} deviations in all."
           if n_built else "none of them wrote one.")
pages.show_markdown(markdown_table(ch.DEVIATION_HEADER, ch.chapter_deviations(found, chapters)))

# %% [markdown]
# The checks of every chapter at a glance (a FAIL would have stopped the book build):

# %%
pages.show_markdown(markdown_table(ch.SUMMARY_HEADER, ch.chapter_summaries(found, chapters)))

# %% [markdown]
# ## 2. Rows recomputed here
#
# ### The energy at a maximum (Theorem 2, Corollary 2)
# The paper gives $\mathcal E^* = M/16$ at a single-frequency maximum of $\mathbb Z_M$ (complex pair) and
# $M/8$ at the real frequency $M/2$ of even $M$; in general $M/(16 d_k)$ and $M/(8 d_k)$. Evaluating Eq. 7
# literally (unit-norm $\mathbf w$ over both halves, all $M^2$ pairs, $\tilde Y$ centred over samples) at the
# frequencies $1$ and $\lfloor M/3\rfloor$ (and $M/2$ for even $M$) gives exactly {glue:text}`energy_ratio:.6f` times
# these, for every $M$ below. The
# [chapter on the maxima](thm2_maxima.ipynb) derives the reason at length.

# %%
energy_df = ch.energy_at_maxima(M_odd, M_even)
pages.glue("energy_ratio", float(energy_df["ratio"].mean()))
pages.glue("energy_orders", pages.fmt_range(energy_df["M"], digits=3))
pages.show_markdown(ch.energy_markdown(energy_df))
notes = [ch.energy_note(energy_df)]

# %% [markdown]
# ```{glue:figure} notes_energy_ratio
# :name: fig-notes-on-the-paper-energy-ratio
# :alt: The energy at unit-norm single-frequency nodes of Z_M against M, computed values as dots and the paper's constants as crosses, for complex pairs and for the real frequency M/2; the computed dots lie above the crosses by one constant factor, given in the caption.
# :figwidth: 90%
#
# **The energy at a maximum against the paper's constant.** Computed $\mathcal E$ (dots) and the paper's $M/16$,
# $M/8$ (crosses) for $M$ in {glue:md}`energy_orders`; the ratio is {glue:text}`energy_ratio:.6f` throughout.
# {download}`Data (CSV) <../figures/notes_on_the_paper/notes_energy_ratio.csv>` ·
# {download}`image (PNG) <../figures/notes_on_the_paper/notes_energy_ratio.png>`
# ```

# %%
pages.show_figure(ch.notes_energy_ratio(energy_df), out_dir, "notes_energy_ratio",
                  ch.notes_energy_ratio_data(energy_df))

# %% [markdown]
# ### Flatness (Corollary 1), the set of maxima (Theorem 2) and the linear activation
# Tangent-Hessian eigenvalues of $\mathcal E$ on the sphere at two Fourier nodes of $\mathbb Z_{M}$ with
# $M$ = {glue:text}`M_even` (a complex pair and the real irrep $M/2$); the energy of a node of the odd group
# ($M$ = {glue:text}`M_odd`) with and without a relative phase between its halves; and, for $\sigma(x) = x$, the
# matrix $\tilde Y^\top X$ whose norm is the whole energy.

# %%
flat = ch.maxima_flatness(M_odd, M_even)
notes += ch.maxima_notes(flat, M_odd, M_even)
lda_norm = ch.linear_sigma_norm(G_odd)
notes.append(ch.linear_sigma_note(lda_norm, M_odd))

# %% [markdown]
# ### Reconstruction (Theorem 3) and widths
# Least-squares residuals $\Vert\tilde Y - \hat Y\Vert/\Vert\tilde Y\Vert$ of real Fourier maxima on the odd group
# and of the one-pair memorisation nodes of $\mathbb Z_{M}$ with $M$ = {glue:text}`M_small`; the
# [reconstruction chapter](thm3_reconstruction.ipynb) measures many more counts.

# %%
rec = ch.reconstruction_residuals(M_odd, M_small)
notes += ch.reconstruction_notes(rec, M_odd, M_small)
notes.append(ch.products_note(ch.cyclic_in_disguise(ch.FIG5_PRODUCTS), len(ch.FIG5_PRODUCTS)))

# %% [markdown]
# ### The table

# %%
pages.show_markdown(ch.notes_markdown(notes, titles))

# %% [markdown]
# Remarks that involve no number:

# %%
pages.show_markdown("\n".join(f"* {t}" for t in ch.texts_without_numbers()))

# %% [markdown]
# ## Checks
# The recomputed values of section 2, each held against the paper's statement: a claim of the paper that the
# computation contradicts is a declared deviation (its reason is the table's), and the rows marked "theory" pin the
# computed value itself, so a change in the code that moved a number would show as FAIL here. The thresholds are
# round-off levels fixed before looking.

# %% tags=["checks"]
ch.add_note_checks(checks, notes)
checks.finish(out_dir)

# %%
pages.rerun_box("notes_on_the_paper", globals(), profile, time.time() - t_start)
