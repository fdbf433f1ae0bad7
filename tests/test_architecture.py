"""The layout keeps its shape: layers and no cycles (import-linter), no borrowed private names,
small modules, a small top level, and the documented module paths importing."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "adrop_kit"
MAX_LINES = 400
MAX_TOP_LEVEL = 14  # the layers (docs/architecture.md), errors.py, __init__.py and __main__.py


def _modules() -> dict[str, Path]:
    mods = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


def test_the_import_linter_contracts_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install 'adrop-kit[dev]')")
    proc = subprocess.run([exe, "--no-cache"], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_no_module_imports_another_subpackages_private_names():
    mods = _modules()
    borrowed = []
    for name, path in mods.items():
        package = name.rpartition(".")[0] if path.name != "__init__.py" else name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not (node.module or "").startswith("adrop_kit"):
                continue
            source_package = node.module if node.module in mods and mods[node.module].name == "__init__.py" \
                else node.module.rpartition(".")[0]
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and source_package != package:
                    borrowed.append(f"{name} <- {node.module}.{alias.name}")
    assert borrowed == []


def test_modules_stay_small_enough_to_read_in_one_sitting():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_top_level_shows_the_layers_not_every_module():
    top = sorted(p.name for p in PACKAGE.iterdir()
                 if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    assert len(top) <= MAX_TOP_LEVEL, top
    for layer in ("support", "spec", "io", "validate", "send", "server", "testing", "explore", "cli",
                  "widgets"):
        init = PACKAGE / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{layer}/__init__.py should say what it holds and what it may import"


@pytest.mark.parametrize(("face", "home", "name"), [
    ("adrop_kit.server", "adrop_kit.server.app", "LocalServer"),
    ("adrop_kit.explore", "adrop_kit.explore.analytics", "funnel"),
    ("adrop_kit.validate", "adrop_kit.validate.event", "validate_event"),
])
def test_a_subpackage_face_imports_the_same_objects_as_their_home(face, home, name):
    assert getattr(importlib.import_module(face), name) is getattr(importlib.import_module(home), name)


def test_every_module_is_found_where_its_file_is():
    import adrop_kit

    assert [Path(p).resolve() for p in adrop_kit.__path__] == [PACKAGE]
    for path in ("adrop_kit.strategies", "adrop_kit.contract", "adrop_kit.analytics"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(path)


def test_exit_codes_are_defined_only_in_the_cli():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if "EXIT_" in p.read_text(encoding="utf-8") or "def exit_code" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_one_exception_tree_every_class_exported_and_drawn():
    import adrop_kit
    from adrop_kit import errors

    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, errors.AdropError)]
    assert len(classes) >= 8
    for cls in classes:
        assert getattr(adrop_kit, cls.__name__) is cls
        assert cls.__name__ in errors.__doc__
    defined_elsewhere = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "errors.py"
                         and any(isinstance(n, ast.ClassDef) and any(getattr(b, "id", "") == "AdropError"
                                                                     for b in n.bases)
                                 for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert defined_elsewhere == []


def test_the_version_comes_from_the_package_metadata():
    from importlib.metadata import version

    import adrop_kit

    assert adrop_kit.__version__ == version("adrop-kit")
    written = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
               if f'"{adrop_kit.__version__}"' in p.read_text(encoding="utf-8")]
    assert written == []


def test_every_path_the_architecture_doc_names_exists():
    root = PACKAGE.parent
    doc = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = {t for t in re.findall(r"`([^`\s]+)`", doc) if re.fullmatch(r"[\w.<>*/-]+(\.py|/)", t)
             and not t.startswith("/")}
    assert len(named) > 40
    missing = [t for t in sorted(named)
               if not any(list(base.glob(re.sub(r"<\w+>|0N", "*", t).rstrip("/"))) for base in (root, PACKAGE))]
    assert missing == []
