"""``draw_graph``: the computation graph under a Value, as a graphviz ``Digraph``.

A box per Value (label, shape and dtype, data, grad), an ellipse per op, edges in the direction
of data flow.  Values made inside an ``nn`` module's forward are grouped in a cluster per
module; ``collapse=True`` draws each top-level module as one box.  The walk is iterative and
linear in the size of the graph.
"""

from __future__ import annotations

import html
import re

import graphviz
import numpy as np

from .value import Value

INSTALL_HINT = (
    "the graphviz 'dot' program is not installed or not on PATH; drawing to source works, "
    "rendering needs it: apt-get install graphviz (Debian/Ubuntu), brew install graphviz "
    "(macOS) or conda install graphviz"
)


class GraphvizMissing(RuntimeError):
    """Rendering a drawing needs graphviz's ``dot`` program, which was not found."""


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering says how to install graphviz when it is missing."""

    def pipe(self, *args, **kwargs):
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            raise GraphvizMissing(INSTALL_HINT) from e

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as e:
            raise GraphvizMissing(INSTALL_HINT) from e


_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}  # any case, in DOT
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # dot refuses these, even quoted


class _Html(str):
    """An HTML-like label (``<...>``), written as it is; any other text is quoted."""


def _text(value) -> str:
    """Text from users (labels, names) as a string dot accepts: control characters become \ufffd."""
    return _CONTROL.sub("\ufffd", str(value))


def _quote(value) -> str:
    """A DOT attribute value: HTML-like labels and plain identifiers as they are, else quoted."""
    if type(value) is _Html:
        return value
    text = _text(value)
    if _ID.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _node_line(name: str, attrs: dict) -> str:
    # Lines written directly (graphviz's own quoting costs ~20 us a node on large graphs).
    return f"\t{name} [" + " ".join(f"{k}={_quote(v)}" for k, v in attrs.items()) + "]\n"


def _edge_line(src: str, dst: str) -> str:
    return f"\t{src} -> {dst}\n"


def summarize(x, max_elements: int = 6) -> str:
    """Numbers for scalars and small tensors (3 significant digits each: a tiny gradient is not
    shown as 0), else min / mean / max."""
    if type(x) is float or np.ndim(x) == 0:
        return f"{float(np.asarray(x)):.4g}"
    if isinstance(x, Value):
        x = x.data
    x = np.asarray(x)
    if x.size <= max_elements:
        return np.array2string(x, separator=", ", formatter={"float_kind": "{:.3g}".format})
    with np.errstate(invalid="ignore"):  # the mean of +inf and -inf is nan, quietly
        return f"min {x.min():.3g} / mean {x.mean():.3g} / max {x.max():.3g}"


def _walk(root: Value) -> list:
    """Every Value under ``root`` (constants too), each after its inputs; no recursion."""
    order, seen, stack = [], {id(root)}, [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for p in node.parents:
            if isinstance(p, Value) and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, False))
    return order


def _module_name(module) -> str:
    """``fc1: Dense(64, 128)``, the class and its ``extra_repr()`` as in the module's repr (but
    without the parameter count); a container shows its class name only."""
    cls = type(module).__name__
    text = repr(module)
    if "\n" in text:
        text = cls
    elif hasattr(module, "extra_repr"):
        text = f"{cls}({module.extra_repr()})"
    name = getattr(module, "_name", "") or cls
    return _text(text if name == cls else f"{name}: {text}")


def _owners(nodes: list) -> dict:
    """id(parameter) -> the scope path of the innermost module (seen in the graph) holding it."""
    paths = {v._scope for v in nodes if v._scope}
    prefixes = {path[:i] for path in paths for i in range(1, len(path) + 1)}
    owner = {}
    for path in sorted(prefixes, key=len):  # deeper modules overwrite their ancestors
        for p in getattr(path[-1], "parameters", lambda: ())():
            owner[id(p)] = path
    return owner


def _value_label(v: Value, show_grad: bool) -> str:
    rows = []
    title = v.label or ("" if v.requires_grad or v._prim is not None else "const")
    if title:
        rows.append(f"<B>{html.escape(_text(title))}</B>")
    if v.shape:
        rows.append(f"{v.shape} {v.dtype}")
    elif v.dtype != np.float64:
        rows.append(str(v.dtype))
    rows.append("data " + html.escape(summarize(v.data)))
    if show_grad and v.requires_grad:
        g = v._grad
        rows.append("grad " + ("-" if g is None else html.escape(summarize(g))))
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return _Html(f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">{cells}</TABLE>>')


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    highlight=None,
    collapse: bool = False,
) -> graphviz.Digraph:
    """Draw the graph under ``root``: a node per Value, a node per op, edges along data flow.

    ``highlight`` is a Value or an iterable of Values to mark (gold).  Leaves that need a
    gradient are blue, parameters of modules orange, Values that need none (constants, data made
    with ``requires_grad=False``) grey, op results white; the root is bold, green if it is an
    op's result.  Values made in an ``nn`` module's forward, and its parameters, sit in a
    cluster named after the module; ``collapse=True`` draws each top-level module as a box
    (the root and highlighted Values stay visible outside it).
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph draws the graph under a Value, got {type(root).__name__}")
    if isinstance(highlight, Value):
        highlight = [highlight]
    highlight = list(highlight) if highlight is not None else []
    for v in highlight:
        if not isinstance(v, Value):
            raise TypeError(f"highlight takes a Value or Values, got a {type(v).__name__}")
    marked = {id(v) for v in highlight}
    dot = Graph(graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})
    nodes = _walk(root)
    # DOT names are numbers in walk order, so the same graph always gives the same source.
    number = {id(v): i for i, v in enumerate(nodes)}
    modules = {}  # id(module) -> its number, in order of first appearance

    def module_name(m):
        return f"m{modules.setdefault(id(m), len(modules))}"

    labels = {}  # id(module) -> its label: a container's repr is long, build each label once

    def module_label(m):
        if id(m) not in labels:
            labels[id(m)] = _module_name(m)
        return labels[id(m)]

    owner = _owners(nodes)
    scope_of = lambda v: v._scope or owner.get(id(v), ())
    # In collapse mode a top-level module's Values, and its parameters, become one box; the
    # root and highlighted Values are drawn on their own.
    box_of = {
        id(v): scope_of(v)[0]
        for v in nodes
        if collapse and scope_of(v) and v is not root and id(v) not in marked
    }

    clusters = {}  # scope path -> list of (name, attrs) drawn inside it
    boxes = {}
    for v in nodes:
        i = number[id(v)]
        m = box_of.get(id(v))
        if m is not None:
            boxes[id(m)] = m
            continue
        style = {"shape": "box", "style": "rounded,filled", "fillcolor": "white"}
        if v._prim is None:
            kind = "parameter" if id(v) in owner else "leaf" if v.requires_grad else "constant"
            style["fillcolor"] = {"parameter": "moccasin", "leaf": "lightblue"}.get(kind, "grey92")
        if v is root:
            style.update(penwidth="2.5", fillcolor="palegreen" if v._prim else "lightblue")
        if id(v) in marked:
            style.update(color="red", penwidth="3", fillcolor="gold")
        items = clusters.setdefault(() if collapse else scope_of(v), [])  # collapse: no clusters
        items.append((f"v{i}", {"label": _value_label(v, show_grad), **style}))
        if v._prim is not None:
            items.append((f"o{i}", {"label": v.op, "shape": "ellipse"}))

    for path, items in sorted(clusters.items(), key=lambda kv: len(kv[0])):
        target = dot
        contexts = []
        for depth in range(1, len(path) + 1):
            module = path[depth - 1]
            ctx = target.subgraph(name=f"cluster_{module_name(module)}")
            target = ctx.__enter__()
            contexts.append(ctx)
            target.attr(label=module_label(module), style="rounded", color="grey50")
        for name, attrs in items:
            target.body.append(_node_line(name, attrs))
        for ctx in reversed(contexts):
            ctx.__exit__(None, None, None)

    for m in boxes.values():
        dot.node(
            module_name(m),
            label=module_label(m),
            shape="box3d",
            style="filled",
            fillcolor="lightyellow",
        )

    def name_of(v):
        m = box_of.get(id(v))
        return module_name(m) if m is not None else f"v{number[id(v)]}"

    box_edges = set()  # a collapsed box gets one edge per neighbour
    for v in nodes:
        if v._prim is None:
            continue
        i = number[id(v)]
        inside = id(v) in box_of
        if not inside:
            dot.body.append(_edge_line(f"o{i}", f"v{i}"))
        for k, p in enumerate(v.parents):  # one edge per input: a + a has two
            if not isinstance(p, Value):
                src = f"c{i}_{k}"
                label = html.escape(summarize(p))
                dot.body.append(_node_line(src, {"label": label, "shape": "plaintext"}))
            else:
                src = name_of(p)
            dst = name_of(v) if inside else f"o{i}"
            if src.startswith("m") or dst.startswith("m"):
                if src == dst or (src, dst) in box_edges:
                    continue
                box_edges.add((src, dst))
            dot.body.append(_edge_line(src, dst))
    return dot
