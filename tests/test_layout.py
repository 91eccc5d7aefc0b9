"""The library's shape (the Architecture issue): modules stay small, no import cycle, the library never imports its CLI,
theory is tensors in and out, a chapter is three files with one stem, and tests mirror the layout."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "li2core"
MAX_LINES = 650  # "about 600" (the Architecture issue); the hook warns at 700


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """li2core modules that ``name`` imports at module level (outside ``if TYPE_CHECKING:``), resolved to modules."""
    tree = ast.parse(path.read_text())
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()

    def visit(body):
        for n in body:
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                continue
            if isinstance(n, (ast.If, ast.Try)):
                visit(n.body)
                visit(getattr(n, "orelse", []))
                for h in getattr(n, "handlers", []):
                    visit(h.body)
            elif isinstance(n, ast.Import):
                out.update(a.name for a in n.names if a.name.startswith("li2core"))
            elif isinstance(n, ast.ImportFrom):
                base = n.module or ""
                if n.level:
                    anchor = pkg.split(".")
                    anchor = anchor[: len(anchor) - (n.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                if not base.startswith("li2core"):
                    continue
                for a in n.names:
                    sub = f"{base}.{a.name}"
                    out.add(sub if sub in modules else base)

    visit(tree.body)
    out.discard(name)
    return {m for m in out if m in modules}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, mods) for m, p in mods.items()}


def test_no_module_is_longer_than_about_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by concept): {long}"


def test_no_import_cycle_inside_li2core():
    g = _graph()
    color: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u):
        color[u] = 1
        stack.append(u)
        for v in sorted(g[u]):
            # a package's __init__ importing its own submodules is not a cycle with them
            if v.startswith(u + "."):
                continue
            if color.get(v) == 1:
                cyc = stack[stack.index(v):] + [v]
                if not all(b.startswith(a + ".") for a, b in zip(cyc, cyc[1:])):
                    pytest.fail("import cycle: " + " -> ".join(cyc))
            elif not color.get(v):
                dfs(v)
        stack.pop()
        color[u] = 2

    for m in sorted(g):
        if not color.get(m):
            dfs(m)


def test_the_library_never_imports_its_cli():
    for m, deps in _graph().items():
        if m in ("li2core.cli", "li2core.__main__"):
            continue
        assert "li2core.cli" not in deps, f"{m} imports li2core.cli"


def test_theory_is_tensors_in_tensors_out():
    for p in sorted((PKG / "theory").glob("*.py")):
        tree = ast.parse(p.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        for bad in ("pandas", "matplotlib", "seaborn", "train", "chapters", "sweep", "cli"):
            assert not any(x == bad or x.endswith("." + bad) or x.startswith(bad + ".") for x in names), \
                f"{p.name} imports {bad}"


def test_a_chapter_is_three_files_with_one_stem():
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    assert stems
    for s in stems:
        assert (PKG / "chapters" / f"{s}.py").is_file(), f"notebooks/{s}.py has no li2core/chapters/{s}.py"
        assert (ROOT / "tests" / "chapters" / f"test_{s}.py").is_file(), f"notebooks/{s}.py has no tests/chapters/test_{s}.py"
    for p in (PKG / "chapters").glob("*.py"):
        if p.stem != "__init__":
            assert p.stem in stems, f"li2core/chapters/{p.name} has no notebook"


def test_tests_mirror_the_layout():
    """Every library module (but package inits, the CLI entry and private modules) has its test file where the layout
    predicts it: li2core/x.py -> tests/test_x.py, li2core/pkg/y.py -> tests/pkg/test_y.py (a package may instead have
    one tests/test_<pkg>.py)."""
    missing = []
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG)
        if p.name in ("__init__.py", "__main__.py") or p.stem.startswith("_"):
            continue
        want = ROOT / "tests" / rel.parent / f"test_{p.stem}.py"
        alt = ROOT / "tests" / f"test_{rel.parts[0]}.py" if len(rel.parts) > 1 else want
        if not (want.is_file() or alt.is_file()):
            missing.append(f"{rel} -> tests/{rel.parent / ('test_' + p.stem + '.py')}")
    assert not missing, "modules without a test file:\n" + "\n".join(missing)
