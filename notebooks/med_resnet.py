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
# # ResNet-18 on summed shapes (MED Figs. 6–7)
#
# **Claim ({cite:t}`gu2025beyond`, §6, MED Figs. 6–7).** Grokking is not special to transformers on modular
# arithmetic. A dictionary of $n = 11$ shapes fills the four quadrants of an image in every way
# ($11^4 = 14{,}641$ images), the label is the sum of the four shapes' values, and ResNet-18 is trained on a random
# 25 % of the images with Adam (lr $10^{-3}$, weight decay $10^{-4}$). In MED Fig. 7 the training accuracy reaches 1
# after about 100 epochs, the test accuracy stays at 0.3–0.4 for about 2800 epochs and then rises quickly to 1.
#
# **What the authors' code does (paper-med §2.4).** `data_gen.py` draws each image at 224 px, white, the quadrant
# `q` (row-major) holding a regular polygon with `sides_q` sides (0 = blank) from the dictionary
# {0, 3, 4, …, 12}: black outline, white fill, spokes from the centre to every vertex; the label is the **sum of the
# side counts** (the paper says the categories are 1..n; the code's values are the side counts). Its radius clamp
# `min(r0, cx, cy, 112 − cx, 112 − cy)` uses the image coordinates of the centre, so only the top-left quadrant gets
# the intended radius (46 px); the other three get −56 px, a polygon of radius 56 turned by 180° that touches the
# quadrant's borders. `resnet_test.py` trains torchvision's **ImageNet-pretrained** ResNet-18 with a 52-way head,
# Adam with coupled L2, minibatches of 200, on an **unseeded** `random_split` of 3660 images.
#
# **What we compute.** The generator as a pure function (`li2core.tasks.shape_images`, quirk on by default, no
# files, no JPEG compression), its label histogram against an independent count (the per-quadrant value counts
# convolved four times, `li2core.tasks.shape_label_counts`), the quirk measured on the pixels; then ResNet-18 written
# in plain torch (`li2core.models.resnet`, torchvision's architecture and initialisation, **from scratch**: no
# pretrained weights can be downloaded here) trained by the book's one trainer `li2core.train.train` (family
# `resnet`, `li2core.train.resnet_config`) on a **seeded** random split, with accuracy and loss in eval mode
# (BatchNorm running statistics) on every image.
#
# **Settings of this build.** Dictionary {glue:md}`shapes_txt` ({glue:text}`n_images` images), {glue:text}`S` px,
# stem {glue:md}`stem`, base width {glue:text}`width` (torchvision: 64), {glue:text}`train_pct:.0f` % train
# ({glue:text}`n_train` images), minibatches of {glue:text}`minibatch`, Adam lr {glue:text}`lr:g`, weight decay
# {glue:text}`wd:g`, {glue:text}`epochs` epochs, {glue:text}`seeds` seeds. **Profile:** {glue:md}`profile`.

# %% tags=["parameters"]
shapes = [0, 3, 4, 5, 6]  # the dictionary of side counts (the paper: [0, 3, 4, ..., 12], 11 entries)
image_size = 64  # px (the paper: 224)
width = 16  # ResNet-18 base channels (torchvision: 64)
stem = "imagenet"  # "imagenet" (7x7 stride 2 + max-pool, torchvision's) or "small" (3x3, no pool)
minibatch = 32  # minibatch (the authors: 200)
train_frac = 0.25  # the authors' 3660 / 14641
lr = 1e-3  # Adam, the authors'
weight_decay = 1e-4  # coupled L2, the authors'
epochs = 25  # passes over the training images (the paper: 20000 in the code; grokking at ~2800)
eval_every = 5  # accuracy every this many epochs (the authors: test every 100)
seeds = 2  # seeds 0..seeds-1 (split, init and minibatch order)
gap_epoch = None  # the epoch of the fit / gap / baseline checks (None: the last; the paper profile: the plateau)
radius_quirk = True  # reproduce the authors' radius clamp
hist_size = 16  # px of the full 11-shape dataset generated for the label histogram (labels do not depend on it)
figure_size = 224  # px of the dictionary and sample figure
threads = 1  # torch threads (one thread avoids contention on a shared 2-core machine); 0: the default
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/med_resnet"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["med_resnet_dataset", "med_resnet_labels", "med_resnet_training"]  # declared outputs (PNG + CSV)

import time

import numpy as np
import torch

import li2core
from li2core import pages
from li2core.chapters import med_resnet as ch
from li2core.checks import Checks
from li2core.models.resnet import N_CLASSES, ResNet18, resnet18_param_count
from li2core.pages import frame_markdown
from li2core.tasks import SHAPE_SIDES, shape_images
from li2core.train import resnet_config

t_start = time.time()
checks = Checks("med_resnet", strict=strict)
if threads:
    torch.set_num_threads(int(threads))
configs = ch.resnet_configs(int(seeds), list(shapes), int(image_size), int(width), stem, int(minibatch), int(epochs),
                            int(eval_every), float(train_frac), float(lr), float(weight_decay),
                            bool(radius_quirk))
c0 = configs[0]
paper_size = (int(image_size) == 224 and int(width) == 64 and tuple(shapes) == SHAPE_SIDES and stem == "imagenet")
for name, value in dict(shapes_txt="{" + ", ".join(str(s) for s in shapes) + "}", n_images=len(shapes) ** 4,
                        S=image_size, stem=stem, width=width, train_pct=100 * train_frac, n_train=c0.n_train,
                        minibatch=minibatch, lr=lr, wd=weight_decay, epochs=epochs, seeds=seeds,
                        eval_every=eval_every, profile=profile, hist_size=hist_size,
                        figure_size=figure_size).items():
    pages.glue(name, value)
print(f"profile={profile}: {len(configs)} runs, {len(shapes) ** 4} images at {image_size} px, width {width}")

# %% [markdown]
# ## 1. The dataset
# The dictionary and four samples at {glue:text}`figure_size` px, drawn by the generator itself. The top-left
# quadrant's shapes are smaller than the others' and the triangles there point right, the others' left: the radius
# quirk.
#
# ```{glue:figure} med_resnet_dataset
# :name: fig-med-resnet-dataset
# :alt: Top row, eleven small tiles with the dictionary's shapes, a blank tile then regular polygons with 3 to 12 sides, each with spokes from the centre to the vertices. Bottom row, four sample images of two by two quadrants, each titled with its four side counts and their sum.
# :figwidth: 100%
#
# **MED Fig. 6 redrawn from the generator.** Top: the dictionary (each value drawn in the top-left quadrant, which
# is shown). Bottom: four images, titled "top-left + top-right + bottom-left + bottom-right = label".
# {download}`Data (CSV) <../figures/med_resnet/med_resnet_dataset.csv>` ·
# {download}`image (PNG) <../figures/med_resnet/med_resnet_dataset.png>`
# ```

# %%
pages.show_figure(ch.dataset_figure(int(figure_size), bool(radius_quirk)), out_dir, "med_resnet_dataset",
                  ch.dataset_figure_data(int(figure_size), bool(radius_quirk)))
quirk = ch.quirk_extent(int(figure_size), bool(radius_quirk))
quirk_err = float((quirk["measured_half_width"] - quirk["radius"].abs()).abs().max())
pages.show_markdown(frame_markdown(quirk, digits=2))
pages.glue("r_tl", float(quirk["radius"].iloc[0]))
pages.glue("r_other", float(quirk["radius"].iloc[1]))

# %% [markdown]
# The radii the clamp gives at {glue:text}`figure_size` px: {glue:text}`r_tl:g` px in the top-left quadrant and
# {glue:text}`r_other:g` px in the three others; the table measures the half-width of a square's black pixels in each
# quadrant (a polygon at radius −56 reaches the quadrant's edge, so the pixels stop half a pixel short).
#
# **Labels.** The full 11-shape dataset (generated at {glue:text}`hist_size` px: the labels do not depend on the
# size) has {glue:text}`full_n` images and {glue:text}`full_distinct` distinct labels; the most common label is
# {glue:text}`full_mode` with {glue:text}`full_mode_n` images ({glue:text}`full_mode_pct:.1f` %, the share a
# constant prediction would get right).
#
# ```{glue:figure} med_resnet_labels
# :name: fig-med-resnet-labels
# :alt: Bar chart of how many of the 14641 images carry each label from 0 to 48, bell-shaped with its peak near 28, with red dots on top of every bar for the independent count by convolution.
# :figwidth: 100%
#
# **The label histogram of the authors' 11-shape dataset.** Bars: labels of the generated images; dots: the
# per-quadrant value counts convolved four times (independent of the generator).
# {download}`Data (CSV) <../figures/med_resnet/med_resnet_labels.csv>` ·
# {download}`image (PNG) <../figures/med_resnet/med_resnet_labels.png>`
# ```

# %%
full = shape_images(int(hist_size), SHAPE_SIDES, bool(radius_quirk))
labels = ch.label_frame(full)
hist_err = int((labels["images"] - labels["convolution"]).abs().max())
present = labels[labels["images"] > 0]
mode = present.loc[present["images"].idxmax()]
pages.glue("full_n", full.N)
pages.glue("full_distinct", int(len(present)))
pages.glue("full_mode", int(mode["label"]))
pages.glue("full_mode_n", int(mode["images"]))
pages.glue("full_mode_pct", 100 * float(mode["images"]) / full.N)
pages.show_figure(ch.label_figure(labels), out_dir, "med_resnet_labels", ch.label_figure_data(labels))
paper_cfg = resnet_config()
n_params = sum(p.numel() for p in ResNet18(1000, 64, "imagenet").parameters())
pages.glue("paper_n_train", paper_cfg.n_train)
pages.glue("n_params", n_params)
pages.glue("n_params_52", resnet18_param_count(N_CLASSES))

# %% [markdown]
# ## 2. Training
# The network is torchvision's ResNet-18 written out: {glue:text}`n_params` parameters for 1000 classes (torchvision
# reports 11,689,512), {glue:text}`n_params_52` with the authors' 52-way head. The paper's split gives
# {glue:text}`paper_n_train` training images (the authors' 3660). All runs go through one `li2core.train.train` call;
# each seed's run is its own module and optimizer (batched runs equal runs alone). Training accuracy here is taken
# in eval mode on the training images (the authors log the running train-mode accuracy of each epoch).

# %%
t0 = time.time()
res = li2core.train(configs, device=device, metrics="basic")
print(f"{len(configs)} runs on {res.device} in {time.time() - t0:.1f} s")
curves = ch.curves_frame(res)
last = curves[curves["epoch"] == curves["epoch"].max()]
t_gap = int(curves["epoch"].max()) if gap_epoch is None else int(gap_epoch)
at_gap = curves[curves["epoch"] == curves.loc[curves["epoch"] <= t_gap, "epoch"].max()]
fit_min = float(at_gap["train_acc"].min())
gap_min = float((at_gap["train_acc"] - at_gap["test_acc"]).min())
test_max = float(last["test_acc"].max())
base_max = float(last["majority"].max())
margin = float((at_gap["test_acc"] - at_gap["majority"]).min())
pages.glue("t_gap", int(at_gap["epoch"].iloc[0]))
fit_epoch = curves[curves["train_acc"] >= 0.95].groupby("seed")["epoch"].min()
pages.show_markdown(frame_markdown(last[["seed", "epoch", "train_acc", "test_acc", "test_loss", "majority"]],
                                   digits=3))
for k, v in dict(fit_min=fit_min, gap_min=gap_min, test_max=test_max, base_max=base_max).items():
    pages.glue(k, v)
pages.glue("fit_epochs", ", ".join(str(int(e)) for e in fit_epoch.values) if len(fit_epoch) else "none")

# %% [markdown]
# At epoch {glue:text}`t_gap` the least training accuracy over the seeds is {glue:text}`fit_min:.3f` and the least
# gap train − test {glue:text}`gap_min:.3f`; at the last epoch the test accuracy is at most
# {glue:text}`test_max:.3f`, against a trivial baseline (the share of the test set's most common label) of up to
# {glue:text}`base_max:.3f`. Training accuracy first reached 0.95 at epoch(s) {glue:md}`fit_epochs`. (The fit
# threshold 0.95 is the book's usual one; the gap threshold 0.5 was set after one longer probe run of seed 0, so the
# checks table marks it as documenting, not as evidence.)
#
# ```{glue:figure} med_resnet_training
# :name: fig-med-resnet-training
# :alt: Two panels against the epoch, one line per seed. Left, training accuracy (blue dotted) climbing to about 1 within a few epochs while test accuracy (red) stays near zero, with a grey dashed line at the majority-class baseline. Right, the training loss falling on a log axis while the test loss rises.
# :figwidth: 100%
#
# **MED Fig. 7 at this build's size.** Left: accuracy in eval mode on the training images (blue dotted) and on the
# test images (red), one line per seed; grey dashed: the majority-class baseline of the test set. Right: the
# cross-entropy on the same sets.
# {download}`Data (CSV) <../figures/med_resnet/med_resnet_training.csv>` ·
# {download}`image (PNG) <../figures/med_resnet/med_resnet_training.png>`
# ```

# %%
pages.show_figure(ch.curves_figure(curves), out_dir, "med_resnet_training", curves)

# %% [markdown]
# **What this size cannot show.** The ci profile trains ResNet-18 with {glue:text}`width` base channels (the
# paper's: 64, so about 16 times fewer parameters at width 16) on
# {glue:text}`n_images` images of {glue:text}`S` px (the paper: 14,641 at 224 px) for {glue:text}`epochs` epochs,
# so it shows the first half of MED Fig. 7 only: the net fits its training images and the test accuracy stays low.
# Grokking itself (the rise at about 2800 epochs) and the 0.3–0.4 plateau cannot be reached here; the paper profile
# (`book/profiles/paper.yml`, a GPU for hours) runs the paper's size for 3000 epochs. **Departures even there:** the
# net starts from scratch (the authors' starts from ImageNet weights, which may be what makes their plateau sit at
# 0.3–0.4 and their grokking happen at all within 3000 epochs); the split is seeded; the images are fed without the
# authors' `Resize(256)` + `CenterCrop(224)` (which crops about 6 % of each border) and without JPEG artefacts;
# training accuracy is measured in eval mode.

# %% [markdown]
# ## Deviations from the paper
# These are collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb). They are
# declared for reduced sizes (anything below the paper's 224 px, 11 shapes, full width); at the paper's size these
# rows are undeclared claims, and if a declared deviation no longer shows, its row turns into a FAIL.

# %%
small = not paper_size
dev_plateau = (f"at the end of {epochs} epochs the test accuracy of every seed is at most {test_max:.3f}, against a "
               f"majority-class share of up to {base_max:.3f}: the small net memorises its {c0.n_train} training "
               f"images without learning anything that transfers. Likely reason: the ci size ({image_size} px, width "
               f"{width}, from scratch, {len(shapes)} shapes) and the missing ImageNet pretraining"
               ) if small else None
dev_grok = (f"the ci run stops at epoch {epochs}, long before the paper's grokking at about 2800 epochs (test "
            f"accuracy at the end at most {test_max:.3f})") if small else None
if small:
    pages.show_markdown(f"```{{admonition}} Deviation: no plateau above the baseline, no grokking at this size\n"
                        f":class: warning\n**Claim (MED Fig. 7):** test accuracy 0.3–0.4 for about 2800 epochs, then "
                        f"1. **Computed:** {dev_plateau}; and {dev_grok}.\n```")

# %% tags=["checks"]
checks.add("the label histogram of the generated 11-shape images equals the per-quadrant counts convolved four "
           "times (largest difference over the labels)", hist_err, hist_err == 0, threshold="= 0", source="theory",
           paper="label = sum of the four values, n^4 samples")
checks.add("the 11-shape dataset has 11^4 images", full.N, full.N == 14641, threshold="= 14641", source="paper",
           paper="14,641 samples")
checks.add("47 distinct labels; the mode is 28 with 813 images (label, count)", f"{len(present)}; "
           f"{int(mode['label'])} with {int(mode['images'])}",
           len(present) == 47 and int(mode["label"]) == 28 and int(mode["images"]) == 813, threshold="= 47; 28, 813",
           source="documents", paper="— (paper-med §2.4, enumeration of the authors' code)")
checks.add("the radius quirk on the pixels: the half-width of a square in each quadrant against |radius| (largest "
           "difference, px)", quirk_err, quirk_err <= 1.0, threshold="≤ 1 px (rasterisation)", source="theory",
           paper="— (the authors' code: 46 px top-left, −56 px elsewhere)", fmt=".2f")
checks.add("ResNet-18's parameter count for 1000 classes: the module and the closed form",
           f"{n_params}; {resnet18_param_count(1000)}", n_params == resnet18_param_count(1000) == 11689512,
           threshold="= 11,689,512 (torchvision)", source="theory", paper="ResNet-18")
checks.add("the paper's 25 % split has the authors' 3660 training images", paper_cfg.n_train,
           paper_cfg.n_train == 3660, threshold="= 3660", source="paper", paper="25 % of 14,641 (code: 3660)")
checks.add(f"the net fits its training images (least training accuracy over the seeds at epoch {t_gap})", fit_min,
           fit_min >= 0.95, threshold="≥ 0.95", source="fixed before looking",
           paper="train accuracy 1 after about 100 epochs", fmt=".3f")
checks.add(f"the train/test gap at epoch {t_gap} (least train − test accuracy over the seeds)", gap_min,
           gap_min >= 0.5, threshold="≥ 0.5", source="documents",
           paper="test 0.3–0.4 while train is 1", fmt=".3f")
checks.add(f"before grokking the test accuracy is above the trivial baseline (least test accuracy at epoch {t_gap} "
           "minus the majority-class share of the test set)", margin, margin > 0, threshold="> 0", source="paper",
           paper="plateau at 0.3–0.4; the majority share is 5.6 %", fmt=".3f", deviation=dev_plateau)
checks.add("grokking: the test accuracy reaches 0.95 (largest final test accuracy)", test_max, test_max >= 0.95,
           threshold="≥ 0.95", source="fixed before looking", paper="test accuracy → 1 after about 2800 epochs",
           fmt=".3f", deviation=dev_grok)
checks.finish(out_dir)

# %%
pages.rerun_box("med_resnet", globals(), profile, time.time() - t_start)
