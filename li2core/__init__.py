"""li2core: models, group tasks, batched training and theory quantities for the li2-book.

Public entry points::

    from li2core import TrainConfig, train
    res = train([TrainConfig(group="Z23", width=256, epochs=200, seed=s) for s in range(4)])
    df = res.frame()

``li2core.PAPER`` maps each label of the paper ("Eq. 4", "Thm 3", "Fig. 5" ...) to the functions that compute it and
the chapter that checks it (:mod:`li2core.paper`).
"""
from __future__ import annotations

from .paper import PAPER
from .tasks import critical_train_frac, make_task, split
from .train import METRICS, Results, TrainConfig, med_config, resolve_device, train

__all__ = ["TrainConfig", "Results", "train", "METRICS", "make_task", "split", "critical_train_frac", "resolve_device",
           "PAPER", "med_config"]
__version__ = "0.1.0"
