"""Every notebook runs in the CI profile, passes its checks, and rebuilds every figure it declares.

A notebook declares its figures in a module-level ``FIGURES = [...]`` list; each name must be
written anew as ``<out_dir>/<name>.png`` (a non-empty, valid PNG) and ``<out_dir>/<name>.csv``
(the numbers behind it, with at least one data row). Undeclared PNGs are an error too.
"""
from __future__ import annotations

import ast
import json
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def declared_figures(name: str) -> list[str]:
    """The ``FIGURES`` list of ``notebooks/<name>.py``, read with ``ast`` (not executed)."""
    tree = ast.parse((ROOT / "notebooks" / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FIGURES" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks/*.py found"


def _parameters_cell(src: str) -> str:
    return src.split('# %% tags=["parameters"]', 1)[1].split("\n# %%", 1)[0]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_follows_the_chapter_standard(name: str) -> None:
    """Parameters (with ``strict``), a checks table (li2core.checks, no bare asserts), every declared figure placed
    by a numbered ``{glue:figure}`` block with alt text and CSV/PNG downloads, a re-run box."""
    src = (ROOT / "notebooks" / f"{name}.py").read_text()
    assert '# %% tags=["parameters"]' in src, f"{name}: no papermill parameters cell"
    params = _parameters_cell(src)
    assert re.search(r"^strict = True\b", params, flags=re.M), f"{name}: no `strict = True` parameter"
    assert re.search(r"^out_dir = ", params, flags=re.M) and re.search(r"^profile = ", params, flags=re.M)
    assert f'Checks("{name}", strict=strict)' in src and ".finish(out_dir)" in src, f"{name}: no checks table"
    assert '# %% tags=["checks"]' in src, f"{name}: the checks cell is not tagged `checks`"
    assert not re.search(r"^assert ", src, flags=re.M), f"{name}: bare asserts (use li2core.checks)"
    assert f'rerun_box("{name}"' in src, f"{name}: no re-run box"
    figures = declared_figures(name)
    assert figures, f"{name}: declares no FIGURES"
    for fig in figures:
        block = re.search(r"^# ```\{glue:figure\} " + re.escape(fig) + r"\n(.*?)^# ```", src, flags=re.M | re.S)
        assert block, f"{name}: no {{glue:figure}} block places {fig}"
        body = block.group(1)
        assert re.search(r"^# :name: fig-", body, flags=re.M), f"{name}: {fig} has no :name: (figure label)"
        assert re.search(r"^# :alt: \S.{20,}", body, flags=re.M), f"{name}: {fig} has no real alt text"
        for ext in ("csv", "png"):
            assert f"../figures/{name}/{fig}.{ext}>" in body, f"{name}: {fig}'s caption does not link its {ext}"
        assert 'show_figure(' in src and f'"{fig}"' in src, f"{name}: {fig} is not written by pages.show_figure"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_and_rebuilds_its_figures(name: str, tmp_path: Path) -> None:
    import build_book  # tools/build_book.py, on sys.path via conftest.py

    start = time.time()
    executed = build_book.execute_notebook(name, profile="ci", out_root=tmp_path)
    assert executed.is_file() and executed.stat().st_size > 0
    fig_dir = tmp_path / "figures" / name
    figures = declared_figures(name)
    for fig in figures:
        png, csv = fig_dir / f"{fig}.png", fig_dir / f"{fig}.csv"
        assert png.is_file(), f"{name}: declared figure {png.name} was not written"
        assert png.stat().st_mtime >= start - 1, f"{name}: {png.name} is stale"
        head = png.read_bytes()[:8]
        assert head == PNG_MAGIC and png.stat().st_size > 10_000, f"{name}: {png.name} is empty or not a PNG"
        assert csv.is_file(), f"{name}: the data behind {fig} ({csv.name}) was not written"
        lines = csv.read_text().splitlines()
        assert len(lines) >= 2, f"{name}: {csv.name} has no data rows"
    extra = {p.stem for p in fig_dir.glob("*.png")} - set(figures)
    assert not extra, f"{name}: writes undeclared figures {sorted(extra)}"
    checks = json.loads((fig_dir / "checks.json").read_text())
    assert checks["chapter"] == name and checks["checks"], f"{name}: an empty checks table"
    fails = [c["claim"] for c in checks["checks"] if c["status"] == "FAIL"]
    assert not fails, f"{name}: FAIL rows {fails}"


CACHED = sorted(p.parent.name for p in (ROOT / "results").glob("*/provenance.json"))


@pytest.mark.slow
@pytest.mark.parametrize("name", CACHED)
def test_cached_chapter_builds_from_the_cache(name: str, tmp_path: Path) -> None:
    """``make book PROFILE=paper-cached`` for a chapter with a results cache: no training, every declared figure
    rebuilt from the cached frames, the checks at paper scale without FAIL, the provenance note on the page and
    nothing on stderr."""
    import build_book

    executed = build_book.execute_notebook(name, profile="paper-cached", out_root=tmp_path)
    nb = json.loads(executed.read_text())
    assert nb["metadata"]["papermill"]["parameters"]["cache"] == "use"
    text = json.dumps(nb)
    assert "Paper-scale results from the cache" in text and f"loaded from results/{name}" in text
    assert not build_book.stderr_outputs(nb), build_book.stderr_outputs(nb)
    for fig in declared_figures(name):
        assert (tmp_path / "figures" / name / f"{fig}.png").is_file()
    checks = json.loads((tmp_path / "figures" / name / "checks.json").read_text())
    assert not [c["claim"] for c in checks["checks"] if c["status"] == "FAIL"]
