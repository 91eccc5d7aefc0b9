"""benchmarks/bench_train.py: fast smoke tests of its functions (the roofline of one step's matrix products and the
report's last lines). Speed is measured by the script, never asserted here."""
from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import torch

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_train.py"
_spec = importlib.util.spec_from_file_location("bench_train", _PATH)
bt = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_train", bt)
_spec.loader.exec_module(bt)  # type: ignore[union-attr]


def test_roofline_times_the_three_products_of_a_step(monkeypatch) -> None:
    calls: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    bmm = torch.bmm

    def spy(a, b, **kw):
        calls.append((tuple(a.shape), tuple(b.shape)))
        return bmm(a, b, **kw)

    monkeypatch.setattr(torch, "bmm", spy)
    t = bt.roofline_step_time(3, 10, 5, 8, torch.device("cpu"), steps=2)
    assert math.isfinite(t) and t > 0
    # batched (R = 3) and run by run, each 1 warm-up + 2 timed steps of the same three products
    batched = [((3, 10, 8), (3, 8, 5)), ((3, 8, 10), (3, 10, 5)), ((3, 10, 5), (3, 5, 8))]
    one = [((1,) + a[1:], (1,) + b[1:]) for a, b in batched]
    assert calls == batched * 3 + one * 3 * 3


def test_report_prints_the_roofline_share_before_the_speedup(capsys) -> None:
    sp = bt.main(["--preset", "cpu", "--device", "cpu", "--runs", "2", "--M", "5", "--width", "8", "--epochs", "3",
                  "--repeats", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"speedup: {sp:.2f}" and sp > 0
    share = [ln for ln in lines if ln.startswith("roofline share: ")]
    assert len(share) == 1 and lines.index(share[0]) < len(lines) - 1
    pct = float(re.match(r"roofline share: ([0-9.]+) %", share[0]).group(1))
    roof = float(re.search(r"roofline: +([0-9.]+) runs\*epochs/s", "\n".join(lines)).group(1))
    li2 = float(re.search(r"li2core : +([0-9.]+) runs\*epochs/s", "\n".join(lines)).group(1))
    assert pct > 0 and abs(pct - 100 * li2 / roof) <= 0.1 + 1e-3 * pct
