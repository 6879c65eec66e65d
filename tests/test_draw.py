"""draw_graph: nodes, edges, labels, clusters per module, highlight, size, rendering."""

import re
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
from autograd_core import Value, draw_graph
from autograd_core.draw import GraphvizMissing

KEYWORDS = {"graph", "node", "edge"}


def counts(graph):
    """(number of nodes, number of edges) declared in a graph's DOT source."""
    lines = graph.source.splitlines()
    edges = [ln for ln in lines if "->" in ln]
    nodes = [
        ln
        for ln in lines
        if re.match(r"\s*\w+ \[", ln) and "->" not in ln and ln.split()[0] not in KEYWORDS
    ]
    return len(nodes), len(edges)


def test_scalar_expression_has_a_node_per_value_and_per_op():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a  # values a, b, a*b, c; ops *, +
    nodes, edges = counts(draw_graph(c))
    assert nodes == 4 + 2
    # a->*, b->*, *->ab, ab->+, a->+, +->c
    assert edges == 6


def test_edges_follow_the_data_flow_and_rankdir_is_passed_on():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    graph = draw_graph(c, rankdir="TB")
    src = graph.source
    node = {lbl: re.search(rf"(\w+) \[label=<.*?<B>{lbl}</B>", src).group(1) for lbl in "abc"}
    op = re.search(r'(\w+) \[label="\*"', src).group(1)
    edges = set(re.findall(r"(\w+) -> (\w+)", src))
    assert edges == {(node["a"], op), (node["b"], op), (op, node["c"])}  # inputs -> op -> output
    assert "rankdir=TB" in src and "rankdir=LR" in draw_graph(c).source


def test_a_value_used_twice_has_two_edges_into_the_op():
    a = Value(1.0, label="a")
    assert counts(draw_graph(a + a)) == (3, 3)


def test_the_same_graph_gives_the_same_source():
    def build():
        a = Value(2.0, label="a")
        return (a * 3.0).tanh() + a

    assert draw_graph(build()).source == draw_graph(build()).source


def test_constants_are_drawn_as_plain_nodes():
    a = Value(2.0, label="a")
    c = a * 3.0
    src = draw_graph(c).source
    assert counts(draw_graph(c)) == (2 + 1 + 1, 3)
    assert "label=3 shape=plaintext" in src


def test_labels_data_and_grads_appear_after_backward():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    before = draw_graph(c).source
    assert "grad -" in before  # no gradient yet
    c.backward()
    src = draw_graph(c).source
    for text in ("<B>a</B>", "<B>b</B>", "<B>c</B>", "data 2", "data -3", "data -6"):
        assert text in src
    assert "grad -3" in src and "grad 2" in src and "grad 1" in src
    assert "grad" not in draw_graph(c, show_grad=False).source


def test_labels_are_assignable_after_the_fact():
    x = Value(1.0)
    y = x.exp()
    y.label = "renamed"
    assert "renamed" in draw_graph(y).source


def test_tensors_show_shape_dtype_and_a_summary():
    small = Value(np.arange(6.0).reshape(2, 3), label="small")
    big = Value(np.arange(100, dtype=np.float32).reshape(10, 10), label="big")
    out = (small.sum() + big.sum()) * 1.0
    out.backward()
    src = draw_graph(out).source
    assert "(2, 3) float64" in src and "(10, 10) float32" in src
    assert "[[0, 1, 2]," in src.replace(".", "")  # up to 6 elements: the numbers themselves
    assert "min 0 / mean 49.5 / max 99" in src


def test_small_tensors_show_tiny_numbers_not_zeros():
    from autograd_core.draw import summarize

    assert summarize(np.array([1e-6, 2e-6])) == "[1e-06, 2e-06]"  # a vanishing gradient
    assert summarize(np.array([1e-5, 1.0, 3.0])) == "[1e-05, 1, 3]"
    assert summarize(np.float32([0.5, 3.25])) == "[0.5, 3.25]"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the mean of +inf and -inf is nan, without a warning
        assert summarize(np.array([np.inf, -np.inf] * 4)) == "min -inf / mean nan / max inf"


def test_module_clusters_and_collapse():
    model = nn.Sequential(nn.Dense(3, 4, rng=0), nn.ReLU(), nn.Dense(4, 2, rng=1))
    x = Value(np.ones((5, 3)), requires_grad=False, label="x")
    loss = model(x).sum()
    loss.backward()
    src = draw_graph(loss).source
    for name in ("0: Dense(3, 4)", "1: ReLU()", "2: Dense(4, 2)"):
        assert f'label="{name}"' in src
    assert src.count("subgraph cluster_") >= 4  # Sequential plus its three layers
    collapsed = draw_graph(loss, collapse=True).source
    assert "subgraph" not in collapsed and "box3d" in collapsed
    assert "weight" not in collapsed  # parameters are folded into the module's box
    nodes, _ = counts(draw_graph(loss, collapse=True))
    assert nodes == 1 + 1 + 2  # x, the Sequential box, the sum's value and op


def test_collapse_keeps_the_root_and_highlighted_values_in_view():
    model = nn.Sequential(nn.Dense(2, 3, rng=0), nn.ReLU(), nn.Dense(3, 1, rng=1))
    out = model(np.ones((4, 2)))
    out.label = "out"  # made inside the model: it would vanish into the box
    src = draw_graph(out, collapse=True, highlight=model[0].weight).source
    assert "subgraph" not in src and src.count("box3d") == 1
    assert "<B>out</B>" in src and "<B>weight</B>" in src and src.count("color=red") == 1


def test_module_labels_are_built_once_per_module(monkeypatch):
    """A container's label comes from its repr, which lists every layer: built once per module,
    not once per layer inside it (that made drawing quadratic in the number of layers)."""
    from autograd_core import draw

    calls = []
    monkeypatch.setattr(draw, "_module_name", lambda m: calls.append(m) or type(m).__name__)
    layers = [layer for i in range(50) for layer in (nn.Dense(2, 2, rng=i), nn.Tanh())]
    model = nn.Sequential(*layers)
    draw_graph(model(np.ones((1, 2))).sum())
    assert len(calls) == len({id(m) for m in calls}) == 1 + 100


def test_highlight_marks_only_the_given_values():
    a = Value(1.0, label="a")
    b = a.tanh()
    c = b * 2.0
    src = draw_graph(c, highlight=b).source
    assert src.count("color=red") == 1
    assert draw_graph(c, highlight=[a, b]).source.count("color=red") == 2


def test_a_graph_of_ten_thousand_nodes_is_drawn_without_recursion():
    x = Value(0.5)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    nodes, edges = counts(draw_graph(y, show_grad=False))
    assert nodes == 10_001 + 10_000
    assert edges == 2 * 10_000


def test_rendered_svg_parses_and_contains_every_node():
    a, b = Value(2.0, label="a"), Value(np.ones(3), label="b")
    c = (a * b).sum()
    c.backward()
    graph = draw_graph(c)
    svg = graph.pipe(format="svg")
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    drawn = root.findall(".//svg:g[@class='node']", ns)
    assert len(drawn) == counts(graph)[0]


def test_render_writes_files(tmp_path):
    c = Value(1.0, label="a").exp()
    path = draw_graph(c).render(tmp_path / "g", format="svg")
    assert path.endswith(".svg")
    assert ET.parse(path).getroot().tag.endswith("svg")


def test_missing_dot_says_how_to_install(monkeypatch):
    c = Value(1.0).exp()
    graph = draw_graph(c)
    monkeypatch.setenv("PATH", "")
    assert "->" in graph.source  # the source is still available
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        graph.pipe(format="svg")
    with pytest.raises(GraphvizMissing, match="brew install graphviz"):
        graph._repr_mimebundle_()


def test_labels_with_quotes_and_angle_brackets_render():
    a = Value(1.0, label='a "quoted" <b> & c')
    c = a.exp()
    c.label = "exp(a)"
    svg = draw_graph(c).pipe(format="svg")
    text = "".join(ET.fromstring(svg).itertext())
    assert 'a "quoted" <b> & c' in text and "exp(a)" in text


@pytest.mark.parametrize("name", ["node", "Edge", "graph", "subgraph", "strict", "digraph"])
def test_an_op_named_like_a_dot_keyword_still_draws(name):
    from autograd_core import Primitive, apply

    prim = Primitive(name, lambda x: x, lambda g, ans, x: g)
    svg = draw_graph(apply(prim, Value(1.0))).pipe(format="svg").decode()
    assert f">{name}<" in svg  # the op's box is labelled with its name


def test_labels_with_control_characters_numbers_and_angle_brackets_render():
    from autograd_core import Primitive, apply

    a = Value(1.0, label="a\x01b")  # a control character: dot would refuse the file
    b = Value(2.0)
    b.label = 5  # not a string
    ops_named = [
        Primitive(name, lambda x: x, lambda g, ans, x: g) for name in ("<lambda>", "<a & b>")
    ]
    out = apply(ops_named[1], apply(ops_named[0], a * b))
    text = "".join(ET.fromstring(draw_graph(out).pipe(format="svg")).itertext())
    assert "<lambda>" in text and "<a & b>" in text and "5" in text and "a\ufffdb" in text


def test_the_root_and_highlight_must_be_values():
    a = Value(1.0)
    with pytest.raises(TypeError, match="draw_graph draws the graph under a Value, got float"):
        draw_graph(3.0)
    with pytest.raises(TypeError, match="highlight takes a Value or Values, got a float"):
        draw_graph(a.exp(), highlight=[1.0])
