"""The notebooks have one source of truth: each `notebooks/NN_name.py` (jupytext, py:percent).

The paired `.ipynb` is generated from it and committed clean: the same cells (type and source,
in order), no outputs, no execution counts, no widget state. Fast (no kernel): see
tests/test_notebooks.py for running them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="jupytext is not installed (pip install -e '.[dev]')")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))
IPYNBS = sorted(NOTEBOOKS.glob("*.ipynb"))
FORMATS = "ipynb,py:percent"

SYNC = "jupytext --sync notebooks/*.py"


def rel(path: Path) -> str:
    return f"notebooks/{path.name}"


def fix_sync(source: Path) -> str:
    return (f"\nTo fix: run `{SYNC}` (for each pair the most recently modified file wins). {rel(source)} is the "
            f"source of truth; to force it onto the .ipynb: `jupytext --to ipynb --update {rel(source)}`.")


def cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def first_difference(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"cell {i}: {x[0]} {x[1][:200]!r}\n   vs   {y[0]} {y[1][:200]!r}"
    return f"{len(a)} cells vs {len(b)} cells"


def test_there_are_four_notebooks_each_with_its_source():
    assert {p.stem for p in SOURCES} >= {"01_validate", "02_explore", "03_contract", "04_send"}
    assert [p.stem for p in SOURCES] == [p.stem for p in IPYNBS], (
        "every notebooks/*.py needs its notebooks/*.ipynb and the other way round; create a missing .ipynb with "
        f"`{SYNC}`, a missing .py with `jupytext --set-formats {FORMATS} notebooks/NAME.ipynb`")
    assert not (NOTEBOOKS / "build.py").exists()


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_source_is_py_percent_paired_with_its_ipynb(source):
    text = source.read_text(encoding="utf-8")
    assert jupytext.formats.guess_format(text, ".py")[0] == "percent", f"{rel(source)} is not in py:percent format"
    py = jupytext.read(source)
    assert py.metadata.get("jupytext", {}).get("formats") == FORMATS, (
        f"{rel(source)}'s header must pair it: `formats: {FORMATS}` "
        f"(`jupytext --set-formats {FORMATS} {rel(source)}`)")
    assert py.metadata.get("kernelspec", {}).get("name") == "python3", f"{rel(source)}: the kernelspec must be python3"


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_ipynb_has_the_same_cells_as_its_source(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{rel(ipynb)} is missing." + fix_sync(source)
    py, nb = jupytext.read(source), jupytext.read(ipynb)
    assert cells(nb) == cells(py), (
        f"{rel(ipynb)} is out of sync with {rel(source)}; first difference (.ipynb vs .py): "
        f"{first_difference(cells(nb), cells(py))}" + fix_sync(source))
    assert nb.metadata.get("jupytext", {}).get("formats") == FORMATS, (
        f"{rel(ipynb)} is not paired with {rel(source)}." + fix_sync(source))


@pytest.mark.parametrize("path", IPYNBS, ids=[p.stem for p in IPYNBS])
def test_committed_ipynb_has_no_outputs_counts_or_widget_state(path):
    nbformat = pytest.importorskip("nbformat")
    raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    nbformat.validate(nb)
    clear = (f"\nTo fix: `jupyter nbconvert --clear-output --inplace {rel(path)}` (outputs and counts), "
             f"`jupytext --sync --update-metadata '{{\"widgets\": null}}' {rel(path)}` (widget state; in JupyterLab "
             "turn off Settings → Save Widget State Automatically).")
    assert "widgets" not in nb.metadata, f"{rel(path)}: widget state saved in the notebook's metadata" + clear
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{rel(path)}: cell {i} has outputs" + clear
            assert cell.execution_count is None, f"{rel(path)}: cell {i} has an execution count" + clear
        assert "widgets" not in cell.get("metadata", {}), f"{rel(path)}: cell {i} carries widget metadata" + clear
    assert "application/vnd.jupyter.widget" not in raw, f"{rel(path)}: widget views or state in the file" + clear
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{rel(path)}: the kernelspec must be python3"
