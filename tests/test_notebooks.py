"""Every notebook in notebooks/ runs top to bottom without error, and is committed with outputs.

The notebooks are found when the tests are collected, so a new one is tested without editing
this file.  Each runs on a temporary copy of notebooks/ (the committed files are never
rewritten), through the same ``execute`` as ``python notebooks/run.py``: a fresh python3 kernel,
120 s per cell, a non-interactive matplotlib backend.  The asserts inside the notebooks are
what makes running them a test.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def _load_runner():
    spec = importlib.util.spec_from_file_location("notebooks_run", NOTEBOOK_DIR / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def _code_cells(nb) -> list:
    """The code cells that run.py executes (nbclient skips cells tagged skip-execution)."""
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and c.source.strip() and "skip-execution" not in _tags(c)
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_with_outputs(path: Path) -> None:
    """The committed file was run top to bottom in one kernel (run.py) and kept its outputs."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert cells, f"{path.name} has no code cells"
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(cells)}: "
        "regenerate it with `python notebooks/run.py` (unexecuted or run out of order)"
    )
    with_outputs = [c for c in cells if c.outputs]
    assert with_outputs, f"{path.name} has no outputs: run `python notebooks/run.py`"
    errors = [  # a cell tagged raises-exception shows its error on purpose
        (i, o.get("ename"))
        for i, c in enumerate(nb.cells)
        for o in c.get("outputs", ())
        if o.output_type == "error" and "raises-exception" not in _tags(c)
    ]
    assert not errors, f"{path.name} was committed with errors in cells {errors}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_without_error(path: Path, tmp_path: Path) -> None:
    """Execute a copy of the notebook (next to copies of its neighbours) in a fresh kernel."""
    work = tmp_path / "notebooks"
    shutil.copytree(
        NOTEBOOK_DIR, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    copy = work / path.name
    nb = nbformat.read(copy, as_version=4)
    try:
        runner.execute(nb, work, copy)
    except runner.NotebookError as e:
        pytest.fail(str(e), pytrace=False)
    assert any(c.outputs for c in _code_cells(nb))
