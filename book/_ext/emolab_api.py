"""The ``emolab-modules`` directive: the API reference of one layer of ``emolab``.

``{emolab-modules} emolab.losses`` documents the package and every module under
it (found with :mod:`pkgutil`, so a new module appears in the book without an
edit here) with ``automodule``, one section per module. Autodoc documents only
what each module defines, so a name re-exported by a package is described once.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.ext.napoleon import Config as NapoleonConfig
from sphinx.ext.napoleon.docstring import GoogleDocstring
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

SKIP = {"__main__"}


def submodules(package: str) -> list[str]:
    """``package`` and its modules, depth first, in name order."""
    mod = importlib.import_module(package)
    names = [package]
    if hasattr(mod, "__path__"):
        for info in sorted(pkgutil.iter_modules(mod.__path__), key=lambda i: i.name):
            if info.name not in SKIP and not info.name.startswith("_"):
                names += submodules(f"{package}.{info.name}")
    return names


class EmolabModules(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        try:
            names = submodules(self.arguments[0])
        except ModuleNotFoundError as err:
            if err.name != self.arguments[0]:
                raise
            # a layer that this version of the library does not have yet
            # (tests/test_book.py checks that every module that exists is documented)
            return [nodes.paragraph(text=f"This version of emolab has no {self.arguments[0]}.")]
        lines = []
        for name in names:
            # The page is MyST Markdown, so the generated content is too; autodoc's
            # own output is reStructuredText, hence eval-rst. Members are those
            # the module defines (not its re-exports, documented where defined).
            lines += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}", "   :members:",
                      "   :show-inheritance:", "   :ignore-module-all:", "```", ""]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=self.get_source_info()[0]), container)
        return container.children


def canonical_name(target: str) -> str | None:
    """Where ``target`` (e.g. ``emolab.losses.GANLoss``, a re-export) is defined, or None."""
    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if not module or not qualname or not module.startswith("emolab"):
            return None
        name = f"{module}.{qualname}"
        return name if name != target else None
    return None


def resolve_reexport(app: Sphinx, env, node, contnode):
    """Resolve the references that the docstrings write for a reader of the source.

    * a name an ``emolab`` package re-exports (``emolab.losses.GANLoss``) resolves to
      its documented definition (``emolab.losses.adversarial.GANLoss``);
    * a short name (``MIKELS8``, ``AccelMixin.autocast``) that the module imports or
      that is documented once anywhere in the API resolves to that object.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    candidates = [target] if target.startswith("emolab") else []
    if node.get("py:module"):
        candidates += [f"{node['py:module']}.{target}"]
    py = env.get_domain("py")
    for candidate in candidates:
        canonical = canonical_name(candidate)
        if canonical is not None:
            new = node.deepcopy()
            new["reftarget"] = canonical
            found = py.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, new, contnode)
            if found is not None:
                return found
    if not target.startswith("emolab") and "py:module" in node and str(node["py:module"]).startswith("emolab"):
        new = node.deepcopy()
        new["refspecific"] = True  # Sphinx's fuzzy search: a unique object whose name ends in ".target"
        return py.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], target, new, contnode)
    return None


#: A line of a docstring's equation table, "(5)  L_cyc(G, F) = ..." or "(9)-(10) L = ...",
#: as the methods number them: a number in brackets, then an equation or two spaces.
EQUATION = re.compile(r"^\(\d+[a-z]?\)(?:-\(\d+[a-z]?\))?(?:\s{2,}\S|\s+\S.*=)")


def equation_blocks(lines: list[str]) -> list[str]:
    """Show the docstrings' equation tables as written: each run of numbered equation
    lines, with their indented continuations, becomes a literal block."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not EQUATION.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        block = []
        while i < len(lines) and (EQUATION.match(lines[i]) or (lines[i][:1].isspace() and lines[i].strip())):
            block.append(lines[i])
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += ["::", ""] + ["    " + line for line in block] + [""]
    return out


NAPOLEON = NapoleonConfig(napoleon_use_param=True, napoleon_use_rtype=True)


def process_docstring(app: Sphinx, what: str, name: str, obj, options, lines: list[str]) -> None:
    """Equation tables as literal blocks (:func:`equation_blocks`), then read the
    docstrings' Google-style sections (``Args:``, ``Returns:``) as napoleon does,
    except in the ``#:`` comments of data and attributes, where napoleon would take the
    text before a colon for a type."""
    lines[:] = equation_blocks(lines)
    if what not in ("data", "attribute"):
        lines[:] = GoogleDocstring(lines, NAPOLEON, app, what, name, obj, options).lines()


def setup(app: Sphinx) -> dict:
    app.connect("autodoc-process-docstring", process_docstring)
    app.add_directive("emolab-modules", EmolabModules)
    app.connect("missing-reference", resolve_reexport)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
