"""Every notebook runs in the CI profile, passes its checks, and rebuilds every figure it declares.

A notebook declares its figures in a module-level ``FIGURES = [...]`` list; each name must be
written anew as ``<out_dir>/<name>.png`` (a non-empty, valid PNG) and ``<out_dir>/<name>.csv``
(the numbers behind it, with at least one data row). Undeclared PNGs are an error too.
"""
from __future__ import annotations

import ast
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


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_declares_parameters_checks_and_figures(name: str) -> None:
    src = (ROOT / "notebooks" / f"{name}.py").read_text()
    assert '# %% tags=["parameters"]' in src, f"{name}: no papermill parameters cell"
    assert "\nassert " in src, f"{name}: no checks cell with assertions"
    assert declared_figures(name), f"{name}: declares no FIGURES"


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
