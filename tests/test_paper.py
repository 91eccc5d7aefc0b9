"""li2core.paper: every label of the README's result table, of li2core.PAPER and of the theory docstrings resolves to
existing code and an existing chapter, and the three agree."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import li2core
import li2core.theory as th
from li2core.paper import PAPER, PaperResult, lookup

ROOT = Path(__file__).resolve().parents[1]
#: a label of the paper inside free text: "Eq. 4", "Prop. 1", "Thm 3", "Cor. 2", "Lemma 1", "Fig. 5", "Sec. 3.2"
LABEL = re.compile(r"\b((?:MED )?)(Eq\.|Prop\.|Props\.|Lemma|Thm|Cor\.|Cors\.|Fig\.|Figs\.|Sec\.|App\.|Def\.|Table|"
                   r"Remark)\s?([0-9]+(?:\.[0-9]+)?|[A-Z]\.[0-9]+|[A-E]\b)(?:\s?[–-]\s?([0-9]+))?")
_SINGULAR = {"Props.": "Prop.", "Cors.": "Cor.", "Figs.": "Fig."}


def labels_in(text: str) -> list[str]:
    """The labels named in ``text``, ranges expanded ("Cor. 1–2" -> Cor. 1, Cor. 2; "Figs. 6–7" -> Fig. 6, Fig. 7)."""
    out = []
    for med, kind, first, last in LABEL.findall(text):  # "MED ...": a result of the second paper (Gu et al.)
        kind = _SINGULAR.get(kind, kind)
        nums = [first] if not last else [str(i) for i in range(int(first), int(last) + 1)]
        out += [f"{med}{kind} {n}" for n in nums]
    return out


def readme_rows() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    start = text.index("| Result | Code | Notebook |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_labels_in_expands_ranges_and_plurals():
    assert labels_in("Thm 2, Cor. 1–2: maxima") == ["Thm 2", "Cor. 1", "Cor. 2"]
    assert labels_in("Prop. 1 / Eq. 3–4: ...") == ["Prop. 1", "Eq. 3", "Eq. 4"]
    assert labels_in("Figs. 6–7 and Sec. 3.2, App. A.1") == ["Fig. 6", "Fig. 7", "Sec. 3.2", "App. A.1"]
    assert labels_in("Paper: App. C.3, Eq. 4") == ["App. C.3", "Eq. 4"]
    assert labels_in("Paper: MED Thm 3.10, MED Table 1, Thm 3") == ["MED Thm 3.10", "MED Table 1", "Thm 3"]
    assert labels_in("MED Def. 4.2; MED Figs. 12–13") == ["MED Def. 4.2", "MED Fig. 12", "MED Fig. 13"]
    assert labels_in("MED App. C, MED Lemma B.1, App. A.1") == ["MED App. C", "MED Lemma B.1", "App. A.1"]


@pytest.mark.parametrize("label", list(PAPER))
def test_every_entry_resolves_to_code_and_an_existing_chapter(label):
    r = PAPER[label]
    assert isinstance(r, PaperResult) and r.label == label and r.statement and r.code
    funcs = r.functions()
    assert len(funcs) == len(r.code) and all(callable(f) or isinstance(f, property) for f in funcs)
    assert (ROOT / "notebooks" / f"{r.chapter}.py").is_file(), f"{label}: no notebook {r.chapter}"
    assert (ROOT / "li2core" / "chapters" / f"{r.chapter}.py").is_file(), f"{label}: no chapter module {r.chapter}"


def test_the_readme_table_resolves_through_PAPER():
    rows = readme_rows()
    assert len(rows) >= 10
    for result, code, notebook, figure in rows:
        stem = re.fullmatch(r"`notebooks/(\w+)\.py`", notebook)
        assert stem, f"README row {result!r}: notebook cell {notebook!r}"
        stem = stem.group(1)
        assert (ROOT / "notebooks" / f"{stem}.py").is_file()
        names = re.findall(r"`([\w.]+)`", code)
        assert names, f"README row {result!r}: empty code column"
        PaperResult("README", result, tuple(names), stem).functions()  # every name imports
        labels = labels_in(result)
        if stem != "notes_on_the_paper":
            assert labels, f"README row {result!r} names no label of the paper"
        for lab in labels:
            assert lab in PAPER, f"README row {result!r}: {lab} is not in li2core.PAPER"
        if labels:
            chapters = {PAPER[lab].chapter for lab in labels}
            assert stem in chapters, f"README row {result!r}: {stem} is none of its labels' chapters {chapters}"
        assert figure.startswith(f"`book/figures/{stem}/")


def _public_theory_functions():
    for m in th.MODULES:
        for name in m.__all__:
            obj = getattr(m, name)
            if inspect.isfunction(obj):
                yield m.__name__, name, obj


def test_every_public_theory_function_names_its_labels_and_chapter():
    seen = 0
    for mod, name, f in _public_theory_functions():
        doc = inspect.getdoc(f) or ""
        m = re.search(r"Paper: (.+?)\. Chapter: ``(\w+)``\.", " ".join(doc.split()))
        assert m, f"{mod}.{name}: the docstring has no 'Paper: ... Chapter: ``stem``.' line"
        assert (ROOT / "notebooks" / f"{m.group(2)}.py").is_file(), f"{mod}.{name}: no chapter {m.group(2)}"
        for lab in labels_in(m.group(1)):
            assert lab in PAPER, f"{mod}.{name}: its docstring names {lab}, which is not in li2core.PAPER"
        seen += 1
    assert seen >= 60


def test_PAPER_and_the_docstrings_agree():
    """A theory function that PAPER lists under a label names that label in its docstring."""
    for label, r in PAPER.items():
        for dotted, f in zip(r.code, r.functions()):
            if not dotted.startswith("li2core.theory."):
                continue
            doc = " ".join((inspect.getdoc(f) or "").split())
            m = re.search(r"Paper: (.+?)\. Chapter:", doc)
            assert m and label in labels_in(m.group(1)), f"{label} lists {dotted}, whose docstring does not name it"


def test_lookup_spellings_and_errors():
    assert lookup("Theorem 3") is PAPER["Thm 3"] is li2core.PAPER["Thm 3"]
    assert lookup("thm3") is lookup("Thm. 3") is PAPER["Thm 3"]
    assert lookup("Eq 4") is PAPER["Eq. 4"] and lookup("Proposition 1") is PAPER["Prop. 1"]
    assert lookup("Figure 5") is PAPER["Fig. 5"] and lookup("Sec. 3.2") is PAPER["Sec. 3.2"]
    assert lookup("Appendix C.3") is PAPER["App. C.3"] and lookup("Eq 11") is PAPER["Eq. 11"]
    assert PAPER["Thm 3"].functions()[0] is th.reconstruct
    assert lookup("MED Theorem 3.10") is lookup("med thm 3.10") is PAPER["MED Thm 3.10"]
    assert lookup("MED Table 1") is PAPER["MED Table 1"] and lookup("MED Definition 4.2") is PAPER["MED Def. 4.2"]
    with pytest.raises(KeyError, match="Thm 99"):
        lookup("Thm 99")
    with pytest.raises(KeyError, match="known:"):
        lookup("banana")
