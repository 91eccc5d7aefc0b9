"""The built book reads cleanly: no stderr, progress bars, tracebacks or build-machine paths on any page, no raw TeX,
no duplicated scripts; and, in headless Chromium, every page loads without console errors and with all its math
rendered by the local MathJax.

These tests need the built site (``make book``) and run with ``pytest -m book`` (``make check-book``; ``.ci/run``
runs them on a fresh clone). Without ``_build/html`` they fail, they do not skip: a check that cannot run is not a
pass. The browser test needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and the
``selenium`` package (the test extras).
"""
from __future__ import annotations

import functools
import html as _html
import http.server
import re
import shutil
import socketserver
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

#: Things a reader must never see on a page.
JUNK = {
    "a traceback": re.compile(r"Traceback \(most recent call last\)"),
    "a progress bar": re.compile(r"\d+%\|[█▏▎▍▌▋▊▉ ]*\||it/s\]|epoch/s\]|IProgress not found|TqdmWarning"),
    "a build-machine path": re.compile(r"(/\.venv/|/root/|/tmp/|/home/\w+/|/work/\w+/|site-packages/)"),
    "a numpy repr": re.compile(r"np\.(int|float)64\("),
    "a warning class": re.compile(r"\b(RuntimeWarning|UserWarning|FutureWarning|DeprecationWarning):"),
}
#: TeX that was not turned into math: $$, or a backslash command, left in the text outside code and math.
RAW_TEX = re.compile(r"\$\$|(?<![\w\\])\\(mathbf|mathcal|mathrm|tilde|frac|sigma|top|perp|nabla|sum|mathbb|hat|"
                     r"eta|alpha|lambda|quad|qquad|text|cdot|le|ge|ldots|infty|sqrt|partial)\b")


def pages() -> list[Path]:
    if not SITE.is_dir():
        pytest.fail(f"no built site at {SITE}: run `make book` first (make check-book does)")
    found = sorted(p for p in SITE.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts
                   and p.name not in ("genindex.html", "search.html", "prf-prf.html"))
    assert found, f"no pages in {SITE}"
    return found


def _strip(html: str) -> str:
    """The page's main text, without scripts, styles, code, math, and tags."""
    main = html[html.find("<main"):html.rfind("</main>")] if "<main" in html else html
    for tag in ("script", "style", "pre", "code", "mjx-container"):
        main = re.sub(rf"<{tag}\b.*?</{tag}>", " ", main, flags=re.S | re.I)
    main = re.sub(r'<(span|div)[^>]*class="[^"]*\bmath\b[^"]*"[^>]*>.*?</\1>', " ", main, flags=re.S)
    return _html.unescape(re.sub(r"<[^>]+>", " ", main))


@pytest.fixture(scope="module")
def site_pages() -> list[Path]:
    return pages()


def test_every_chapter_page_was_built(site_pages):
    built = {p.stem for p in site_pages}
    for nb in (ROOT / "notebooks").glob("*.py"):
        assert nb.stem in built, f"notebooks/{nb.name} has no page in the built book"


def test_no_stderr_progress_bars_tracebacks_or_paths(site_pages):
    bad = []
    for p in site_pages:
        h = p.read_text(encoding="utf8", errors="replace")
        for m in re.finditer(r'class="[^"]*\boutput stderr\b[^"]*"[^>]*>(.*?)</div>', h, flags=re.S):
            said = _html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()
            bad.append(f"{p.relative_to(SITE)}: a stderr output block: {said[:200]!r}")
        text = _html.unescape(re.sub(r"<[^>]+>", " ", h[h.find("<main"):h.rfind("</main>")] if "<main" in h else h))
        for what, rx in JUNK.items():
            m = rx.search(text)
            if m:
                bad.append(f"{p.relative_to(SITE)}: {what}: ...{text[max(0, m.start() - 60):m.end() + 30]!r}")
    assert not bad, "pages carry junk:\n" + "\n".join(bad)


def test_no_output_line_is_cut_off(site_pages):
    """Printed output wider than the page's column is cut off (scrolled): at most 100 characters a line."""
    bad = []
    for p in site_pages:
        h = p.read_text(encoding="utf8", errors="replace")
        for block in re.findall(r'<div class="cell_output[^"]*">(.*?)</div>\s*</div>\s*</div>', h, flags=re.S):
            for pre in re.findall(r"<pre>(.*?)</pre>", block, flags=re.S):
                for line in _html.unescape(re.sub(r"<[^>]+>", "", pre)).splitlines():
                    if len(line) > 100:
                        bad.append(f"{p.relative_to(SITE)}: {len(line)} characters: {line[:80]!r}...")
    assert not bad, "output lines too wide for the page:\n" + "\n".join(bad[:20])


def test_no_raw_tex_in_the_text(site_pages):
    bad = []
    for p in site_pages:
        text = _strip(p.read_text(encoding="utf8", errors="replace"))
        for m in RAW_TEX.finditer(text):
            bad.append(f"{p.relative_to(SITE)}: ...{' '.join(text[max(0, m.start() - 50):m.end() + 30].split())!r}")
    assert not bad, "raw TeX outside math:\n" + "\n".join(bad[:40])


def test_no_duplicated_inline_scripts(site_pages):
    for p in site_pages:
        h = p.read_text(encoding="utf8", errors="replace")
        bodies = re.findall(r"<script>(.*?)</script>", h, flags=re.S)
        dup = {b for b in bodies if bodies.count(b) > 1 and b.strip()}
        assert not dup, f"{p.relative_to(SITE)} includes a script twice: {sorted(dup)[0][:100]!r}"


def test_figures_have_numbers_captions_alt_text_and_downloads(site_pages):
    for p in site_pages:
        if "_executed" not in p.parts:
            continue
        h = p.read_text(encoding="utf8", errors="replace")
        figs = re.findall(r"<figure\b.*?</figure>", h, flags=re.S)
        for f in figs:
            alt = re.search(r'<img[^>]*\balt="([^"]*)"', f)
            assert alt and alt.group(1).strip() and not re.fullmatch(r"[0-9a-f]{16,}", alt.group(1)), \
                f"{p.name}: a figure without alt text"
            assert re.search(r'class="caption-number"', f), f"{p.name}: a figure without a number"
        stems = re.findall(r'href="[^"]*_downloads/[^"]*/([^"/]+)\.(csv|png|py|ipynb)"', h)
        kinds = {k for _, k in stems}
        if figs:
            assert {"csv", "png"} <= kinds, f"{p.name}: figures without CSV/PNG download links ({kinds})"
        assert {"py", "ipynb"} <= kinds, f"{p.name}: no download of the chapter's source and executed notebook"


def test_every_chapter_shows_a_checks_table_and_a_rerun_box(site_pages):
    for p in site_pages:
        if "_executed" not in p.parts:
            continue
        text = _strip(p.read_text(encoding="utf8", errors="replace"))
        assert re.search(r"\d+ checks: \d+ pass, \d+ declared deviations, 0 fail", text), \
            f"{p.name}: no checks table summary (or a FAIL)"
        assert "Re-run this chapter" in text, f"{p.name}: no re-run box"


# --------------------------------------------------------------------------------------------- the browser
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - silence the server
        pass


@pytest.fixture(scope="module")
def server():
    httpd = socketserver.TCPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver; .ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (the test extras)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(a)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_script_timeout(60)
    yield drv
    drv.quit()


_MATHJAX_DONE = """
const done = arguments[arguments.length - 1];
const report = () => {
  const math = [...document.querySelectorAll('.math')];
  const clone = document.querySelector('main') ? document.querySelector('main').cloneNode(true) : document.body;
  clone.querySelectorAll('pre, code, script, style, mjx-container, .math').forEach(e => e.remove());
  done({mathjax: !!(window.MathJax && MathJax.startup), math: math.length,
        unrendered: math.filter(e => !e.querySelector('mjx-container')).length,
        errors: document.querySelectorAll('mjx-merror').length, text: clone.innerText});
};
if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(report, report);
else report();
"""


def test_pages_in_a_browser(site_pages, server, browser):
    bad = []
    for p in site_pages:
        rel = p.relative_to(SITE).as_posix()
        browser.get(f"{server}/{rel}")
        st = browser.execute_async_script(_MATHJAX_DONE)
        logs = [entry for entry in browser.get_log("browser")
                if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]]
        if logs:
            bad.append(f"{rel}: console errors: {[entry['message'][:160] for entry in logs]}")
        if st["math"] and not st["mathjax"]:
            bad.append(f"{rel}: {st['math']} math elements but MathJax did not load")
        if st["unrendered"] or st["errors"]:
            bad.append(f"{rel}: {st['unrendered']} math elements not rendered, {st['errors']} MathJax errors")
        m = RAW_TEX.search(st["text"])
        if m:
            bad.append(f"{rel}: raw TeX in the rendered text: {st['text'][max(0, m.start() - 50):m.end() + 30]!r}")
    assert not bad, "\n".join(bad)
