"""The library is layered: a module never imports a layer above its own."""

import ast
from pathlib import Path

import emolab

LAYERS = ["core", "data", "models", "losses", "training", "methods", "experiments",
          "plots", "widgets", "bench", "runner", "cli", "__main__"]
ROOT = Path(emolab.__file__).parent


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "emolab":
        return None
    if len(parts) == 1:
        return -1  # the package itself (its __version__) sits below everything
    return LAYERS.index(parts[1])


def imports_of(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_every_module_belongs_to_a_layer():
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.name == "__init__.py" and len(rel.parts) == 1:
            continue
        assert rel.parts[0].removesuffix(".py") in LAYERS, f"{rel} is in no layer"


def test_lower_layers_never_import_higher_ones():
    violations = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if len(rel.parts) == 1 and rel.name == "__init__.py":
            continue
        own = LAYERS.index(rel.parts[0].removesuffix(".py"))
        for module in imports_of(path):
            other = layer_of(module)
            if other is not None and other > own:
                violations.append(f"{rel} imports {module}")
    assert not violations, violations
