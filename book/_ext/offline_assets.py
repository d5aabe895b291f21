"""Serve MathJax from the built site, so that no page of the book needs the internet.

MathJax 3.2.2 comes from the PyPI package ``sphinx-mathjax-offline`` (in the
``book`` extra): its ``static/mathjax`` folder is copied to ``_static/mathjax``
of the HTML output, and ``mathjax_path`` (``_config.yml``) points there. The
ipywidgets embed script and RequireJS are vendored in ``book/_static/vendor``
(see the README there) and named by ``nb_ipywidgets_js`` in ``_config.yml``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.fileutil import copy_asset

PACKAGE = "sphinx-mathjax-offline"


def mathjax_source() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(f"MathJax for the offline book comes from the PyPI package {PACKAGE!r}: "
                             "pip install -e '.[book]'")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_asset(str(mathjax_source()), str(Path(app.outdir) / "_static" / "mathjax"))


#: Stylesheets that notebook outputs link from a CDN although the theme already serves
#: them: Font Awesome, which matplotlib's ``Animation.to_jshtml`` player links for its
#: buttons (the theme's Font Awesome 6 keeps the v4 names it uses).
CDN_STYLESHEET = re.compile(r'<link[^>]*href="https?://[^"]*font-awesome[^"]*"[^>]*>\s*', re.IGNORECASE)


def drop_cdn_stylesheets(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "") and CDN_STYLESHEET.search(node.astext()):
            text = CDN_STYLESHEET.sub("", node.astext())
            node.children = []
            node += nodes.Text(text)


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Include each script once. sphinx-thebe adds its inline configuration twice
    under Jupyter Book, and the second ``const THEBE_JS_URL`` is a JavaScript error
    on every page."""
    seen, unique = set(), []
    for js in context.get("script_files", []):
        # an inline script comes once with filename None and once with "" (the same body)
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"][:] = unique  # in place: it is the builder's list, which later handlers extend


def check_config(app: Sphinx, config) -> None:
    mathjax_source()  # fail early, with the install command, where the package is missing
    if "://" in (config.mathjax_path or ""):
        raise ExtensionError(f"mathjax_path {config.mathjax_path!r} needs the internet; "
                             "use the local copy, mathjax/tex-chtml.js")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_config)
    app.connect("build-finished", copy_mathjax)
    app.connect("doctree-resolved", drop_cdn_stylesheets)
    app.connect("html-page-context", dedupe_scripts, priority=100)  # before handlers that stop the event
    return {"parallel_read_safe": True, "parallel_write_safe": True}
