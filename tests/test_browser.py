"""Every page of the built book, opened in headless Chromium as a reader opens it.

Served from ``_build/html`` of the session's book build (the committed outputs,
no execution) on 127.0.0.1; every request to another host is refused, so a page
that needs the internet fails here. Per page: no console errors or uncaught
exceptions, every image loaded, every formula typeset by MathJax without a TeX
error, and every matplotlib animation player (``Animation.to_jshtml``, the
GANmut gamut player) shows another frame when its slider is moved. Full-page
screenshots go to ``_build/screenshots`` (CI artifacts).

Needs Chromium (Debian: ``apt-get install chromium``; ``$EMOLAB_CHROMIUM``
names another binary) and the Python package ``playwright`` (the ``browser``
extra); it drives the system's browser and downloads none. Skips, saying which
is missing, where either is absent.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def toc_pages() -> list[str]:
    """The HTML page of every file in _toc.yml, plus the index pages Sphinx adds."""
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [f"{f}.html" for f in module.toc_files()] + ["genindex.html", "search.html"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("EMOLAB_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@contextlib.contextmanager
def serve(directory: Path):
    """``directory`` on http://127.0.0.1:PORT/ while the block runs."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(built_book):
    """The built book on http://127.0.0.1:PORT/ for the module's tests."""
    proc, html = built_book
    if proc.returncode != 0:
        pytest.skip("the book did not build; tests/test_book.py shows why")
    with serve(html) as base:
        yield base, html


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the browser test needs playwright: pip install -e '.[browser]'")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium to drive: apt-get install chromium (Debian; .ci/run does), "
                    "or set EMOLAB_CHROMIUM to a Chromium binary")
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Exception as err:  # a browser that cannot start here is an environment problem
            pytest.skip(f"{executable} does not start headless: {str(err).splitlines()[0]}")
        yield browser
        browser.close()


class Visit:
    """One page opened in a fresh browser context that refuses every other host."""

    def __init__(self, browser, base: str, page: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.external: list[str] = []
        host = urlparse(base).netloc

        def route(r):
            if urlparse(r.request.url).netloc in (host, "") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.external.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        self.page.goto(base + page, wait_until="load")

    def close(self):
        self.context.close()


WAIT_FOR_IMAGES = """() => Promise.all([...document.images].map(img => {
    img.loading = "eager";
    return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
}))"""

BROKEN_IMAGES = """() => [...document.images]
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => (img.getAttribute("src") || "").slice(0, 80))"""

TYPESET = """async () => {
    const math = document.querySelectorAll("div.math, span.math");
    if (math.length === 0) return {math: 0};
    if (!window.MathJax || !MathJax.startup) return {math: math.length, loaded: false};
    await MathJax.startup.promise;
    await new Promise(done => setTimeout(done, 200));  // wide-math.js runs after typesetting
    return {
        math: math.length,
        loaded: true,
        rendered: [...math].filter(m => m.querySelector("mjx-container")).length,
        errors: [...document.querySelectorAll("mjx-merror")].map(e => e.getAttribute("data-mjx-error") || e.textContent),
        // a display equation whose left part is pushed out of its box cannot be read
        clipped: [...document.querySelectorAll('div.math > mjx-container[display="true"]')].filter(c =>
            c.getBoundingClientRect().left < c.parentElement.getBoundingClientRect().left - 1).length,
    };
}"""

PLAYERS = """() => [...document.querySelectorAll("div.animation")].map(div => {
    const slider = div.querySelector("input.anim-slider");
    return slider ? Number(slider.max) : -1;
})"""

SCRUB = """([index, fraction]) => {
    const div = document.querySelectorAll("div.animation")[index];
    const img = div.querySelector("img"), slider = div.querySelector("input.anim-slider");
    const before = img.src;
    slider.value = String(Math.max(1, Math.round(Number(slider.max) * fraction)));
    slider.dispatchEvent(new Event("input"));
    return {before: before.slice(-64), after: img.src.slice(-64), changed: before !== img.src, frame: slider.value};
}"""


def check_players(page) -> list[dict]:
    """Move the slider of every animation player on the page; each must show another frame."""
    results = []
    for i, frames in enumerate(page.evaluate(PLAYERS)):
        assert frames >= 1, f"player {i} has a single frame or no slider"
        moved = page.evaluate(SCRUB, [i, 0.5])
        assert moved["changed"], f"player {i}: the image stayed the same after moving the slider: {moved}"
        results.append(moved)
    return results


@pytest.mark.parametrize("page", toc_pages())
def test_page_in_chromium(site, browser, page):
    base, html = site
    assert (html / page).exists(), f"{page} was not built"
    visit = Visit(browser, base, page)
    try:
        visit.page.evaluate(WAIT_FOR_IMAGES)
        math = visit.page.evaluate(TYPESET)
        visit.page.wait_for_load_state("networkidle")
        players = check_players(visit.page)
        shot = SCREENSHOTS / page.replace(".html", ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(shot), full_page=True)
        broken = visit.page.evaluate(BROKEN_IMAGES)
    finally:
        visit.close()
    assert not visit.external, f"{page} asked the network for {visit.external[:5]}"
    assert not visit.errors, f"{page}: {visit.errors[:5]}"
    assert not broken, f"{page}: images that did not load: {broken}"
    if math["math"]:
        assert math["loaded"], f"{page} has {math['math']} formulas but MathJax did not load"
        assert math["rendered"] == math["math"], f"{page}: only {math['rendered']} of {math['math']} formulas typeset"
        assert not math["errors"], f"{page}: TeX errors {math['errors'][:5]}"
        assert not math["clipped"], f"{page}: {math['clipped']} display equations lose their left part"
    if players:
        print(f"{page}: {len(players)} animation player(s) scrubbed: {players}")


def test_gamut_player_changes_frame(site, browser):
    """GANmut's static gamut player (matplotlib's to_jshtml) shows another frame when scrubbed."""
    base, html = site
    page = "notebooks/04_ganmut.html"
    if not (html / page).exists():
        pytest.skip("the GANmut chapter is not in this build")
    visit = Visit(browser, base, page)
    try:
        players = visit.page.evaluate(PLAYERS)
        if not players:
            pytest.skip("the GANmut page has no animation player (Animation.to_jshtml output)")
        moved = check_players(visit.page)
        visit.page.locator("div.animation").first.scroll_into_view_if_needed()
        visit.page.screenshot(path=str(SCREENSHOTS / "gamut_player_scrubbed.png"))
    finally:
        visit.close()
    assert all(m["changed"] for m in moved)
    assert not visit.errors, visit.errors[:5]


def test_player_check_scrubs_a_matplotlib_animation(browser, tmp_path):
    """The player check itself, on a to_jshtml animation made here (chapter 4's player is
    one): moving the slider shows another frame, and the book's build drops the player's
    Font Awesome link to a CDN (book/_ext/offline_assets.py) so that it works offline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    spec = importlib.util.spec_from_file_location("offline_assets", ROOT / "book" / "_ext" / "offline_assets.py")
    offline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(offline)

    fig, ax = plt.subplots(figsize=(2, 2))
    dot, = ax.plot([0], [0], "o")
    ax.set(xlim=(0, 4), ylim=(0, 4))
    player = FuncAnimation(fig, lambda i: dot.set_data([i], [i]), frames=4).to_jshtml()
    plt.close(fig)
    assert offline.CDN_STYLESHEET.search(player), "matplotlib's player links Font Awesome from a CDN"
    (tmp_path / "player.html").write_text(f"<html><body>{offline.CDN_STYLESHEET.sub('', player)}</body></html>")
    with serve(tmp_path) as base:
        visit = Visit(browser, base, "player.html")
        try:
            visit.page.evaluate(WAIT_FOR_IMAGES)
            broken = visit.page.evaluate(BROKEN_IMAGES)
            moved = check_players(visit.page)
        finally:
            visit.close()
    assert not broken, f"the player's frame did not load: {broken}"
    assert len(moved) == 1 and moved[0]["changed"]
    assert not visit.external and not visit.errors, (visit.external, visit.errors)


def test_saved_widgets_render_offline(browser, tmp_path):
    """Saved ipywidgets state renders with the JavaScript that the book serves
    (book/_static/vendor): no CDN, no missing font, no console error."""
    import shutil
    import subprocess
    import sys

    import nbformat
    from nbclient import NotebookClient

    jb = Path(sys.executable).parent / "jupyter-book"
    if not jb.exists():
        pytest.skip("jupyter-book is not installed (pip install -e '.[book]')")
    src = tmp_path / "src"
    shutil.copytree(ROOT / "book", src / "book")
    shutil.copy(ROOT / "_config.yml", src / "_config.yml")
    (src / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: widgets\n")
    (src / "index.md").write_text("# Widgets offline\n\nSee {doc}`widgets`.\n")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# A slider\n\n$k$ from 0 to 10."),
                nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(value=3, max=10, description='k')")]
    NotebookClient(nb, kernel_name="python3", store_widget_state=True, timeout=120).execute()
    assert "widgets" in nb.metadata, "nbclient saved the widget state"
    nbformat.write(nb, src / "widgets.ipynb")
    proc = subprocess.run([str(jb), "build", str(src), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with serve(src / "_build" / "html") as base:
        visit = Visit(browser, base, "widgets.html")
        try:
            visit.page.wait_for_selector(".widget-slider", timeout=15000)
            visit.page.wait_for_load_state("networkidle")
            shown = visit.page.evaluate("() => document.querySelector('.jupyter-widgets').innerText")
        finally:
            visit.close()
    assert not visit.external, visit.external
    assert not visit.errors, visit.errors
    assert "k" in shown and "3" in shown, shown
