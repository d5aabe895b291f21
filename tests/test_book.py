"""The Jupyter Book builds offline and free of warnings (from the committed outputs)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_without_warnings(built_book):
    proc, html = built_book
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert (html / "index.html").exists()
    chapter = (html / "notebooks" / "00_toy_manifold.html").read_text()
    assert "data:image/png" in chapter or "_images/" in chapter, "the chapter shows its figures"
    references = (html / "book" / "references.html").read_text()
    assert "emotion classification with data augmentation" in references.lower()


def test_book_needs_no_network(built_book):
    """MathJax and the widget script are served by the book; no page loads a script,
    a stylesheet or a font from another host."""
    proc, html = built_book
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (html / "_static" / "vendor" / "widgets" / "embed-amd.js").exists()
    external = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(https?:)?//[^"]*"', re.IGNORECASE)
    for page in html.rglob("*.html"):
        found = [m.group(0)[:160] for m in external.finditer(page.read_text())
                 if 'rel="canonical"' not in m.group(0)]
        assert not found, f"{page.relative_to(html)} loads from the network: {found}"


def test_api_reference_covers_every_module(built_book):
    """Every module of emolab has a section in the API reference, with its docstring."""
    import pkgutil

    import emolab

    proc, html = built_book
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    pages = "".join(p.read_text() for p in (html / "book" / "api").glob("*.html"))
    for mod in pkgutil.walk_packages(emolab.__path__, "emolab."):
        if not mod.name.endswith("__main__"):
            assert f'id="module-{mod.name}"' in pages, f"{mod.name} is missing from the API reference"
    assert 'id="emolab.losses.adversarial.GANLoss"' in pages


def test_glossary_names_a_function_for_every_loss(built_book):
    proc, html = built_book
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    glossary = (html / "book" / "glossary.html").read_text()
    terms = re.findall(r'<dt id="term-[^"]+">', glossary)
    assert len(terms) >= 10
    for entry in glossary.split("<dt id=\"term-")[1:]:
        assert "book/api/" in entry or "api/" in entry, "each loss links its function in the API reference"


def test_toc_lists_every_chapter_notebook():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{nb.stem}" in files, nb.name
