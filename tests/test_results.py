"""li2core.results: the paper-scale results cache. Frames and provenance round-trip exactly; a chapter records,
then loads without training; and the cache is re-derived from its recorded configs (CI: the cached runs must
still follow from the code), which fails when a cached number is corrupted."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from li2core import results
from li2core.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
#: Seed of the random choice of cached runs to re-derive (recorded here so a failure can be reproduced).
SEED = 20261201
#: Runs per training frame to re-derive, and how many epochs: a few evaluations, before float rounding is
#: amplified by the training dynamics (results.TOLERANCE says why its tolerances suffice there).
N_RUNS, EVALS = 2, 2


def tiny_configs(seeds: int = 2, epochs: int = 8) -> list[TrainConfig]:
    return [TrainConfig(group="Z7", train_frac=0.5, width=16, lr=1e-2, weight_decay=wd, epochs=epochs, seed=s,
                        eval_every=4) for wd in (1e-3, 0.0) for s in range(seeds)]


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny chapter ``demo`` recorded into ``tmp_path`` (a training frame and a plain table)."""
    monkeypatch.setenv(results.COMMAND_ENV, "python tools/build_book.py --profile paper --only demo --record")
    store = results.ChapterCache("demo", "record", {"seeds": 2, "wds": [1e-3, 0.0]}, root=tmp_path, profile="paper")
    df = store.train_frame("runs", tiny_configs(), device="cpu")
    assert len(df) == 4 * 3  # 4 runs, evaluated at 0, 4, 8
    store.add_frame("table", pd.DataFrame({"x": [0.1, 1 / 3, np.nan], "name": ["a", "b", "c"]}))
    assert store.record() == tmp_path / "demo"
    return tmp_path


def test_frames_round_trip_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.standard_normal(50), "b": rng.integers(0, 9, 50), "ok": rng.random(50) > 0.5,
                       "s": ["x"] * 50})
    df.loc[3, "a"] = np.nan
    path = results.write_frame(df, tmp_path / "f.csv.gz")
    pd.testing.assert_frame_equal(results.read_frame(path), df)
    first = path.read_bytes()
    results.write_frame(df, path)
    assert path.read_bytes() == first  # reproducible bytes (no time stamp): a re-recording diffs only on data
    assert gzip.decompress(first).decode().splitlines()[0] == "a,b,ok,s"


def test_provenance_round_trip(recorded: Path) -> None:
    prov = results.read_provenance("demo", recorded)
    assert prov["command"] == "python tools/build_book.py --profile paper --only demo --record"
    for key in ("commit", "dirty", "code_version", "device", "device_name", "torch", "date", "wall_s", "params"):
        assert key in prov
    assert prov["torch"] == torch.__version__ and prov["device"] == "cpu" and prov["profile"] == "paper"
    assert prov["params"] == {"seeds": 2, "wds": [1e-3, 0.0]}
    assert prov["commit"] is None or len(prov["commit"]) == 40
    runs = prov["frames"]["runs"]["runs"]
    assert [TrainConfig(**c) for c in runs] == tiny_configs()  # every run can be re-derived from its config
    assert prov["frames"]["table"] == {"file": "table.csv.gz", "rows": 3}
    assert results.has_entry("demo", recorded) and not results.has_entry("nothing", recorded)
    with pytest.raises(results.CacheMissing, match="--record"):
        results.read_provenance("nothing", recorded)
    results.write_provenance("copy", prov, recorded)
    assert results.read_provenance("copy", recorded) == json.loads(json.dumps(prov))


def test_use_mode_loads_without_training(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = results.ChapterCache("demo", "off", {"seeds": 2}, root=recorded).train_frame("runs", tiny_configs(),
                                                                                          device="cpu")
    import li2core.results as mod

    def no_training(*a, **k):
        raise AssertionError("mode 'use' must not train")

    monkeypatch.setattr(mod, "train", no_training)
    # the profile asks for 5 seeds; the cache holds 2: the recorded values replace the profile's, the box says so
    store = results.ChapterCache("demo", "use", {"seeds": 5, "wds": [1e-3, 0.0]}, root=recorded)
    assert store.params == {"seeds": 2, "wds": [1e-3, 0.0]} and store.differs == {"seeds": (5, 2)}
    df = store.train_frame("runs", tiny_configs())
    pd.testing.assert_frame_equal(df, live, check_dtype=False)  # same numbers as training now (same device)
    pd.testing.assert_frame_equal(store.frame("table"), pd.DataFrame({"x": [0.1, 1 / 3, np.nan],
                                                                      "name": ["a", "b", "c"]}))
    with pytest.raises(ValueError, match="differ from the recorded ones"):
        store.train_frame("runs", tiny_configs(seeds=1))
    box = store.box(["fig_a", "fig_b"])
    prov = results.read_provenance("demo", recorded)
    assert "from the cache" in box and "`fig_a`, `fig_b`" in box and prov["date"] in box
    assert prov["device_name"] in box and prov["command"] in box and "`seeds` = `2` (the profile: `5`)" in box
    assert "other values than the" in box
    assert all(len(line) <= 100 for line in box.splitlines() if not line.startswith("* device"))
    assert "$" not in box and "\\" not in box  # no raw TeX in the page's note
    assert "Computed live" in results.ChapterCache("demo", "record", {}, root=recorded).box(["fig_a"])
    with pytest.raises(ValueError, match="cache: must be one of"):
        results.ChapterCache("demo", "later")


def test_record_replaces_the_old_recording(recorded: Path) -> None:
    store = results.ChapterCache("demo", "record", {"seeds": 1}, root=recorded)
    store.train_frame("runs", tiny_configs(seeds=1), device="cpu")
    store.record(note="a smaller recording")
    assert sorted(p.name for p in (recorded / "demo").iterdir()) == ["provenance.json", "runs.csv.gz"]
    assert results.read_provenance("demo", recorded)["note"] == "a smaller recording"
    assert results.ChapterCache("demo", "off").record() is None  # only mode "record" writes


def test_device_name_and_git_state() -> None:
    assert "logical cores" in results.device_name("cpu")
    state = results.git_state(ROOT)
    assert set(state) == {"commit", "dirty"}
    assert results.git_state("/") in ({"commit": None, "dirty": None}, state) or state["commit"]


def test_rederive_a_tiny_recording_and_catch_a_corrupted_value(recorded: Path) -> None:
    runs = results.pick_runs("demo", "runs", 2, SEED, recorded)
    assert runs == results.pick_runs("demo", "runs", 2, SEED, recorded) and len(set(runs)) == 2
    cmp = results.rederive("demo", "runs", runs, epochs=4, root=recorded)
    assert len(cmp) and cmp["ok"].all(), cmp[~cmp["ok"]]
    assert set(cmp["epoch"]) == {0, 4}
    with pytest.raises(ValueError, match="multiple of eval_every"):
        results.rederive("demo", "runs", runs, epochs=6, root=recorded)
    _corrupt(recorded / "demo" / "runs.csv.gz", run=runs[0], epoch=4, metric="train_loss", factor=1.01)
    bad = results.rederive("demo", "runs", runs, epochs=4, root=recorded)
    assert list(bad.loc[~bad["ok"], ["run", "epoch", "metric"]].itertuples(index=False, name=None)) == [
        (runs[0], 4, "train_loss")]


def _corrupt(path: Path, run: int, epoch: int, metric: str, factor: float) -> None:
    df = results.read_frame(path)
    sel = (df["run"] == run) & (df["epoch"] == epoch)
    assert sel.sum() == 1
    df.loc[sel, metric] *= factor
    results.write_frame(df, path)


# ------------------------------------------------------------------------------------------ the real cache
def _training_frames() -> list[tuple[str, str]]:
    out = []
    for prov in sorted((ROOT / "results").glob("*/provenance.json")):
        for name, entry in json.loads(prov.read_text())["frames"].items():
            if "runs" in entry:
                out.append((prov.parent.name, name))
    return out


def _small_epochs(chapter: str, name: str) -> int:
    cfg = results.read_provenance(chapter)["frames"][name]["runs"][0]
    return min(cfg["epochs"], EVALS * cfg["eval_every"])


@pytest.mark.parametrize("chapter,name", _training_frames())
def test_the_cache_follows_from_the_code(chapter: str, name: str) -> None:
    """CI re-derives the cache: ``N_RUNS`` recorded runs drawn with ``SEED``, re-run from their configs for the
    first ``EVALS`` evaluations, must give the cached metrics within ``results.TOLERANCE``."""
    runs = results.pick_runs(chapter, name, N_RUNS, SEED)
    cmp = results.rederive(chapter, name, runs, epochs=_small_epochs(chapter, name))
    assert len(cmp) and cmp["ok"].all(), f"results/{chapter}/{name}: cached values that no longer follow:\n" + \
        cmp[~cmp["ok"]].to_string()


@pytest.mark.parametrize("chapter,name", _training_frames()[:1])
def test_the_check_fails_on_a_corrupted_cache(chapter: str, name: str, tmp_path: Path) -> None:
    """The same check on a copy of the cache with one value changed by 1 % must flag exactly that value."""
    shutil.copytree(ROOT / "results" / chapter, tmp_path / chapter)
    run = results.pick_runs(chapter, name, 1, SEED)[0]
    epoch = results.read_provenance(chapter)["frames"][name]["runs"][run]["eval_every"]
    _corrupt(tmp_path / chapter / f"{name}.csv.gz", run=run, epoch=epoch, metric="train_loss", factor=1.01)
    cmp = results.rederive(chapter, name, [run], epochs=epoch, root=tmp_path)
    assert list(cmp.loc[~cmp["ok"], ["run", "epoch", "metric"]].itertuples(index=False, name=None)) == [
        (run, epoch, "train_loss")]
