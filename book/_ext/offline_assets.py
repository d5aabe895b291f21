"""Serve MathJax from the built site, so that no page of the book needs the internet.

MathJax 3.2.2 comes from the PyPI package ``sphinx-mathjax-offline`` (in the
``book`` extra): its ``static/mathjax`` folder is copied to ``_static/mathjax``
of the HTML output, and ``mathjax_path`` (``_config.yml``) points there. The
ipywidgets embed script and RequireJS are vendored in ``book/_static/vendor``
(see the README there) and named by ``nb_ipywidgets_js`` in ``_config.yml``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

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


def check_config(app: Sphinx, config) -> None:
    mathjax_source()  # fail early, with the install command, where the package is missing
    if "://" in (config.mathjax_path or ""):
        raise ExtensionError(f"mathjax_path {config.mathjax_path!r} needs the internet; "
                             "use the local copy, mathjax/tex-chtml.js")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_config)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
