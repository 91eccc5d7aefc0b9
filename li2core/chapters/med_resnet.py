"""Chapter ``med_resnet`` (the MED paper §6, MED Figs. 6-7, paper-med §2.4): ResNet-18 on the authors' shape images.

The dataset (:func:`li2core.tasks.shape_images`): the dictionary and samples (:func:`dataset_figure`), the label
histogram against an independent count (:func:`label_frame`, :func:`label_figure`), the radius quirk measured on the
pixels (:func:`quirk_extent`); the training runs (:func:`resnet_configs`, through :func:`li2core.train.train`), the
trivial baseline (:func:`majority_share`) and the curves (:func:`curves_figure`).
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..figures import theme
from ..tasks import (
    SHAPE_SIDES,
    ShapeImages,
    quadrant_radius,
    shape_images,
    shape_label_counts,
    shape_task,
    split_pairs,
)
from ..train import Results, TrainConfig, resnet_config

__all__ = ["resnet_configs", "label_frame", "label_figure", "label_figure_data", "dataset_figure",
           "dataset_figure_data", "quirk_extent", "majority_share", "curves_frame", "curves_figure", "SAMPLES"]

#: The sample images of :func:`dataset_figure`: 4-tuples of side counts (top-left, top-right, bottom-left,
#: bottom-right), fixed before looking.
SAMPLES = ((3, 4, 5, 6), (12, 0, 8, 3), (0, 0, 0, 7), (10, 11, 9, 4))


def resnet_configs(seeds: int, shapes: Sequence[int] | None, image_size: int, width: int, stem: str,
                   minibatch: int, epochs: int, eval_every: int, train_frac: float = 0.25, lr: float = 1e-3,
                   weight_decay: float = 1e-4, radius_quirk: bool = True) -> list[TrainConfig]:
    """Seeds ``0 .. seeds-1`` of :func:`li2core.train.resnet_config` (a seed fixes the split, the init and the
    minibatch order)."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    return [resnet_config(shapes=shapes, image_size=image_size, width=width, stem=stem, minibatch=minibatch,
                          epochs=epochs, eval_every=eval_every, train_frac=train_frac, lr=lr,
                          weight_decay=weight_decay, radius_quirk=radius_quirk, seed=s) for s in range(seeds)]


def label_frame(data: ShapeImages) -> pd.DataFrame:
    """Per label ``0 .. 4 max``: ``images`` (how many generated images carry it) and ``convolution`` (the independent
    count :func:`li2core.tasks.shape_label_counts`)."""
    conv = shape_label_counts(data.shapes)
    got = np.bincount(data.y, minlength=conv.size)
    return pd.DataFrame({"label": np.arange(conv.size), "images": got[: conv.size], "convolution": conv})


def label_figure_data(labels: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`label_figure`: the rows of :func:`label_frame`."""
    return labels[["label", "images", "convolution"]].copy()


def label_figure(labels: pd.DataFrame) -> plt.Figure:
    """Bars: the label histogram of the generated images; dots: the per-quadrant count convolved four times."""
    theme()
    d = label_figure_data(labels)
    fig, ax = plt.subplots(figsize=(8.0, 3.6))
    ax.bar(d["label"], d["images"], color="#1f77b4", width=0.8, label="generated images")
    ax.plot(d["label"], d["convolution"], "o", color="#d62728", ms=4, label="convolution of quadrant counts")
    ax.set_xlabel("label = sum of the four side counts")
    ax.set_ylabel("images")
    ax.set_title(f"Label histogram of the {int(d['images'].sum())} images")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def dataset_figure_data(size: int = 224, quirk: bool = True) -> pd.DataFrame:
    """The numbers behind :func:`dataset_figure`: per drawn image its kind (``dictionary`` or ``sample``), the four
    side counts, the label, and the polygon radius of each quadrant."""
    rows = [("dictionary", s, 0, 0, 0, s) for s in SHAPE_SIDES]
    rows += [("sample", *t, sum(t)) for t in SAMPLES]
    d = pd.DataFrame(rows, columns=["kind", "q0", "q1", "q2", "q3", "label"])
    for q in range(4):
        d[f"radius_q{q}"] = quadrant_radius(q, size, quirk)
    return d


def _draw(sides: Sequence[int], size: int, quirk: bool) -> np.ndarray:
    """The dataset's image of one 4-tuple: :func:`li2core.tasks.shape_images` on the tuple's distinct values, the
    tuple's image picked by its product-order index."""
    vals = tuple(dict.fromkeys(int(s) for s in sides))
    data = shape_images(size, vals, quirk)
    k = len(vals)
    i = 0
    for s in sides:
        i = i * k + vals.index(int(s))
    return data.images[i]


def dataset_figure(size: int = 224, quirk: bool = True) -> plt.Figure:
    """MED Fig. 6 redrawn: top, the dictionary (each side count in the top-left quadrant, cropped); bottom, four
    sample images with their labels."""
    theme()
    fig = plt.figure(figsize=(8.0, 4.6))
    gs = fig.add_gridspec(2, 1, height_ratios=[1, 2.2])
    top = gs[0].subgridspec(1, len(SHAPE_SIDES), wspace=0.08)
    half = size // 2
    for j, s in enumerate(SHAPE_SIDES):
        ax = fig.add_subplot(top[0, j])
        ax.imshow(_draw((s, 0, 0, 0), size, quirk)[:half, :half], cmap="gray", vmin=0, vmax=255)
        ax.set_title("blank" if s == 0 else str(s), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    bot = gs[1].subgridspec(1, len(SAMPLES), wspace=0.1)
    for j, t in enumerate(SAMPLES):
        ax = fig.add_subplot(bot[0, j])
        ax.imshow(_draw(t, size, quirk), cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{'+'.join(map(str, t))} = {sum(t)}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Dictionary (top-left quadrant) and samples, {size} px", fontsize=11)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.02, hspace=0.25)
    return fig


def quirk_extent(size: int = 224, quirk: bool = True, sides: int = 4) -> pd.DataFrame:
    """The radius measured on the pixels: per quadrant, the half-width of the black pixels of a ``sides``-gon
    (vertices on the horizontal through the centre for even ``sides``) around the quadrant centre, against
    ``|quadrant_radius|``."""
    img = _draw((sides,) * 4, size, quirk)
    Q = size / 2
    rows = []
    for q in range(4):
        r0, c0 = int(Q * (q // 2)), int(Q * (q % 2))
        tile = img[r0 : r0 + int(Q), c0 : c0 + int(Q)]
        cols = np.flatnonzero((tile < 128).any(0))
        rows.append({"quadrant": q, "radius": quadrant_radius(q, size, quirk),
                     "measured_half_width": (cols.max() - cols.min()) / 2 if cols.size else 0.0})
    return pd.DataFrame(rows)


def majority_share(cfg: TrainConfig) -> float:
    """The trivial baseline of a run: the share of its test images that carry the test set's most common label
    (the accuracy of the best constant prediction on that test set)."""
    task = shape_task(SHAPE_SIDES if cfg.shapes is None else tuple(int(v) for v in cfg.shapes.split(",")))
    sp = split_pairs(task, cfg.split, cfg.p, cfg.seed, cfg.dugout)
    y = task.y[sp.test].numpy()
    return float(np.bincount(y).max() / y.size) if y.size else float("nan")


def curves_frame(res: Results) -> pd.DataFrame:
    """The numbers behind :func:`curves_figure`: ``seed, epoch, train_acc, test_acc, train_loss, test_loss`` and the
    run's trivial baseline ``majority``."""
    f = res.frame()
    base = {i: majority_share(c) for i, c in enumerate(res.configs)}
    d = f[["run", "seed", "epoch", "train_acc", "test_acc", "train_loss", "test_loss"]].copy()
    d["majority"] = d["run"].map(base)
    return d


def curves_figure(curves: pd.DataFrame) -> plt.Figure:
    """MED Fig. 7 at this build's size: accuracy (left) and loss (right) against the epoch, one line per seed; the
    dashed grey line is the trivial baseline (majority share of the test set)."""
    theme()
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.8))
    for k, (s, ds) in enumerate(curves.groupby("seed")):
        a = 0.9 if k == 0 else 0.6
        axes[0].plot(ds["epoch"], ds["train_acc"], ":", color="#1f77b4", lw=1.4, alpha=a,
                     label="train" if k == 0 else None)
        axes[0].plot(ds["epoch"], ds["test_acc"], "-", color="#d62728", lw=1.4, alpha=a,
                     label="test" if k == 0 else None)
        axes[1].plot(ds["epoch"], ds["train_loss"], ":", color="#1f77b4", lw=1.4, alpha=a)
        axes[1].plot(ds["epoch"], ds["test_loss"], "-", color="#d62728", lw=1.4, alpha=a)
    axes[0].axhline(float(curves["majority"].max()), color="0.5", ls="--", lw=1.0, label="majority baseline")
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].set_ylabel("accuracy (eval mode)")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("loss (cross-entropy)")
    for ax in axes:
        ax.set_xlabel("epoch (passes over the training images)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=9, ncol=3, loc="lower center")
    return fig
