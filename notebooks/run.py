"""Regenerate the notebooks' outputs: execute each one top to bottom and save it in place.

    python notebooks/run.py                      # every notebooks/*.ipynb, in sorted order
    python notebooks/run.py 01 03_information_theory.ipynb   # some: file name, stem or prefix

Each notebook runs in a fresh ``python3`` kernel whose working directory is ``notebooks/``, with
a time limit of 120 s per cell, and is saved with its outputs; the time each took is printed.
If a cell fails, the notebook is left as it was and the command exits with status 1, naming the
notebook, the cell and the error.

The kernel's environment makes the outputs reproducible and the run headless:

- ``MPLBACKEND`` is matplotlib-inline's backend: non-interactive (it renders with Agg and never
  opens a window), and figures still appear as PNG outputs, so the saved notebooks show them.
- ``PYTHONHASHSEED=0``, and this checkout's root first on ``PYTHONPATH`` (its packages are the
  ones imported, whatever is installed).
- No execution timestamps are recorded, and the object addresses that leak into outputs
  (``<... at 0x7f...>``) and the ids of ipywidgets models are renumbered,
  so running twice gives the same file. Random seeds are the notebooks' business.

``tests/test_notebooks.py`` runs every notebook through ``execute`` below, on a temporary copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellControlSignal, CellExecutionError, DeadKernelError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KERNEL = "python3"
CELL_TIMEOUT = 120  # seconds
MPL_BACKEND = "module://matplotlib_inline.backend_inline"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
# ipywidgets model ids (random uuids)
_MODEL_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


class NotebookError(RuntimeError):
    """A notebook failed: which one, which cell, and why."""

    def __init__(self, path: Path | str, index: int | None, cell, reason: str) -> None:
        self.path, self.index = Path(path), index
        where = f"{self.path.name}"
        if index is not None:
            count = cell.get("execution_count")
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "").strip()
            where += f", cell {index}" + (f" (In [{count}])" if count else "")
            where += f": {first[:80]}" if first else ""
        super().__init__(f"{where}\n{_ANSI.sub('', reason).strip()}")


def kernel_env() -> dict:
    """The environment of the kernels: see the module's docstring."""
    env = dict(os.environ)
    env["MPLBACKEND"] = MPL_BACKEND
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def execute(nb: nbformat.NotebookNode, cwd: Path | str, path: Path | str = "notebook"):
    """Run every cell of ``nb`` in a fresh kernel working in ``cwd``; fill in its outputs.

    Raises ``NotebookError`` (naming ``path``'s file and the cell) on an error or a timeout.
    Returns ``nb``, its outputs made reproducible by ``stabilize``.
    """
    current: dict = {"index": None}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no "TCP without encryption" noise
        on_cell_start=on_cell_start,
    )
    try:
        client.execute(env=kernel_env())
    except (CellExecutionError, CellControlSignal, DeadKernelError, TimeoutError) as e:
        index = current["index"]
        cell = nb.cells[index] if index is not None else None
        reason = str(e) or type(e).__name__
        if not isinstance(e, CellExecutionError):
            reason = f"{type(e).__name__}: {reason} (the time limit is {CELL_TIMEOUT} s per cell)"
        raise NotebookError(path, index, cell, reason) from e
    return stabilize(nb)


def stabilize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Make a run's outputs the same every time (in place).

    Drops execution metadata, merges consecutive printed outputs of one stream (how they are
    split depends on timing), and renumbers object addresses and ipywidgets model ids.
    """
    ids: dict = {}
    renumber = lambda text: _MODEL_ID.sub(
        lambda m: f"{ids.setdefault(m.group(), len(ids) + 1):032x}", text
    )
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        merged = []
        for out in cell.get("outputs", ()):
            if out.get("output_type") == "stream":
                out["text"] = _ADDRESS.sub(" at 0x...>", out["text"])
                last = merged[-1] if merged else None
                if last and last.get("output_type") == "stream" and last["name"] == out["name"]:
                    last["text"] += out["text"]
                    continue
            data = out.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = _ADDRESS.sub(" at 0x...>", data["text/plain"])
            if "application/vnd.jupyter.widget-view+json" in data:
                view = data["application/vnd.jupyter.widget-view+json"]
                view["model_id"] = renumber(view["model_id"])
            merged.append(out)
        if "outputs" in cell:
            cell.outputs = merged
    if "widgets" in nb.metadata:
        nb.metadata["widgets"] = json.loads(renumber(json.dumps(nb.metadata["widgets"])))
    return nb


def select(names: list) -> list:
    """The notebooks named (file name, stem, path or unique prefix); all of them if none."""
    every = sorted(HERE.glob("*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        hits = [p for p in every if p.stem == stem] or [p for p in every if p.stem.startswith(stem)]
        if len(hits) != 1:
            known = ", ".join(p.name for p in every) or "none"
            why = "matches no notebook" if not hits else "is ambiguous"
            raise SystemExit(f"run.py: {name!r} {why} (notebooks: {known})")
        if hits[0] not in chosen:
            chosen.append(hits[0])
    return chosen


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    args = parser.parse_args(argv)
    failed = []
    total = time.perf_counter()
    for path in select(args.names):
        start = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        try:
            execute(nb, HERE, path)
        except NotebookError as e:
            took = time.perf_counter() - start
            print(f"FAILED  {path.name}  ({took:.1f} s)\n{e}\n", file=sys.stderr, flush=True)
            failed.append(path.name)
            continue
        nbformat.write(nb, path)
        print(f"{time.perf_counter() - start:6.1f} s  {path.name}", flush=True)
    print(f"{time.perf_counter() - total:6.1f} s  in all", flush=True)
    if failed:
        print(f"run.py: {len(failed)} failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
