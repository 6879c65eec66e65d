"""backward(): accumulation, shared nodes, detach / no_grad / constants, seeds, backward_steps."""

import copy
import pickle

import numpy as np
import pytest

from autograd_core import Value, backward_steps, no_grad

# ---- deep graphs -----------------------------------------------------------------------------


def test_a_chain_of_a_million_nodes_does_not_recurse():
    n = 1_000_000  # the contract's figure
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**n, rel=1e-9)
    assert y.data == pytest.approx(1.0001**n, rel=1e-9)
    del y  # freeing the chain must not overflow the C stack either


def test_a_deep_tensor_chain_of_mixed_ops():
    n = 50_000
    x = Value(np.array([0.5, -0.25]))
    y = x
    for i in range(n):
        y = y + 0.0001 if i % 2 else y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(2, 1.0001 ** (n // 2)), rtol=1e-9)


def test_a_deep_chain_of_shared_nodes():
    """Each node used twice: y <- y + y, 2^k paths; the order must still be topological."""
    x = Value(1.0)
    y = x
    for _ in range(1000):
        y = (y + y) * 0.5
    y.backward()
    assert x.grad == pytest.approx(1.0)


# ---- accumulation --------------------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls_on_separate_graphs():
    x = Value(np.array([1.0, 2.0]))
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0 + 2.0, 2.0 + 4.0])
    s = Value(3.0)
    (s * 2.0).backward()
    s.exp().backward()
    assert s.grad == pytest.approx(2.0 + np.exp(3.0))


def test_backward_twice_on_the_same_graph_adds_exactly_one_more_gradient():
    x = Value(np.array([0.5, -1.0, 2.0]))
    w = Value(1.5)
    a = x * w  # used twice below: a diamond
    b = a.tanh()
    c = (a * b + a.exp()).sum() * w
    c.backward()
    first = {"x": x.grad.copy(), "w": w.grad, "a": a.grad.copy(), "b": b.grad.copy()}
    c.backward()
    np.testing.assert_allclose(x.grad, 2 * first["x"], rtol=1e-14)
    assert w.grad == pytest.approx(2 * first["w"], rel=1e-14)
    np.testing.assert_allclose(a.grad, 2 * first["a"], rtol=1e-14)
    np.testing.assert_allclose(b.grad, 2 * first["b"], rtol=1e-14)
    c.backward()
    np.testing.assert_allclose(x.grad, 3 * first["x"], rtol=1e-14)


def test_backward_twice_on_a_scalar_chain():
    x = Value(2.0)
    y = (x * 3.0).exp().log()  # = 3x
    y.backward()
    y.backward()
    assert x.grad == pytest.approx(6.0)


def test_backward_on_an_intermediate_after_the_root():
    x = Value(2.0)
    a = x * x
    b = a * 3.0
    b.backward()
    assert x.grad == pytest.approx(12.0) and a.grad == 3.0
    a.backward()  # a new pass from a: only one more d a / d x
    assert x.grad == pytest.approx(12.0 + 4.0)


# ---- shared nodes --------------------------------------------------------------------------


def test_reuse_of_one_value_in_several_places():
    x = Value(3.0)
    y = x * x + x + x * 2.0 - x / x
    y.backward()
    assert x.grad == pytest.approx(2 * 3.0 + 1 + 2)
    a = Value(np.array([1.0, 2.0]))
    (a * a * a).sum().backward()
    np.testing.assert_allclose(a.grad, 3 * np.array([1.0, 2.0]) ** 2)


def test_x_plus_x_and_x_times_x():
    x = Value(5.0)
    (x + x).backward()
    assert x.grad == 2.0
    y = Value(np.array([5.0]))
    (y * y).backward()
    np.testing.assert_array_equal(y.grad, [10.0])


def test_diamond():
    x = Value(0.3)
    a = x * 2.0
    b = a.tanh()
    c = a.exp()
    d = b * c
    d.backward()
    t, e = np.tanh(0.6), np.exp(0.6)
    assert a.grad == pytest.approx((1 - t**2) * e + t * e, rel=1e-12)
    assert x.grad == pytest.approx(2 * a.grad, rel=1e-12)
    assert b.grad == pytest.approx(e) and c.grad == pytest.approx(t)
    assert d.grad == 1.0


def test_nested_diamonds_on_tensors():
    x = Value(np.array([[0.2, -0.4], [0.6, 0.1]]))
    a = x @ x  # x on both sides
    b = a + x
    c = (b * a).sum() + (b.T @ x).sum()
    c.backward()
    xd = x.data

    def f(m):
        a_ = m @ m
        b_ = a_ + m
        return (b_ * a_).sum() + (b_.T @ m).sum()

    num = np.zeros_like(xd)
    for idx in np.ndindex(*xd.shape):
        e = np.zeros_like(xd)
        e[idx] = 1e-6
        num[idx] = (f(xd + e) - f(xd - e)) / 2e-6
    np.testing.assert_allclose(x.grad, num, rtol=1e-6, atol=1e-8)


def test_gradients_of_intermediates_are_visible_after_backward():
    x = Value(np.array([1.0, 2.0, 3.0]))
    h = x * 2.0
    t = h.tanh()
    loss = (t * np.array([1.0, -1.0, 0.5])).sum()
    loss.backward()
    assert loss.grad == 1.0 or np.asarray(loss.grad) == 1.0
    np.testing.assert_array_equal(t.grad, [1.0, -1.0, 0.5])
    np.testing.assert_allclose(h.grad, t.grad * (1 - np.tanh(h.data) ** 2), rtol=1e-12)
    np.testing.assert_allclose(x.grad, 2 * h.grad, rtol=1e-12)


def test_grad_is_zeros_of_the_right_kind_before_backward():
    assert Value(1.5).grad == 0.0 and type(Value(1.5).grad) is float
    g = Value(np.ones((2, 3), np.float32)).grad
    assert g.shape == (2, 3) and g.dtype == np.float32 and not g.any()
    y = Value(np.ones(3)) * 2.0
    assert y.grad.shape == (3,) and not y.grad.any()


def test_zero_grad():
    x = Value(np.array([1.0, 2.0]))
    (x * 3.0).sum().backward()
    x.zero_grad()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])  # starts afresh
    s = Value(2.0)
    (s * s).backward()
    s.zero_grad()
    assert s.grad == 0.0 and type(s.grad) is float


def test_a_leafs_grad_is_its_own_array():
    """Changing a leaf's grad in place (gradient clipping) must not change other nodes' grads."""
    x = Value(np.array([1.0, 2.0]))
    y = Value(np.array([3.0, 4.0]))
    s = x + y
    s.backward(np.array([1.0, 1.0]))
    x.grad *= 10.0
    y.grad *= 100.0
    np.testing.assert_array_equal(s.grad, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])
    np.testing.assert_array_equal(y.grad, [100.0, 100.0])


def test_a_leafs_grad_does_not_alias_an_intermediates_grad():
    x = Value(np.array([1.0, 2.0]))
    h = x + 1.0
    loss = (h * np.array([2.0, 3.0])).sum()
    loss.backward()
    x.grad[0] = -7.0
    np.testing.assert_array_equal(h.grad, [2.0, 3.0])


def test_a_leafs_grad_does_not_alias_the_seed():
    seed = np.array([1.0, 2.0])
    x = Value(np.array([5.0, 6.0]))
    (x + 0.0).backward(seed)
    x.grad += 1.0
    np.testing.assert_array_equal(seed, [1.0, 2.0])
    leaf = Value(np.array([5.0, 6.0]))
    leaf.backward(seed)  # backward from a leaf itself
    leaf.grad *= 3.0
    np.testing.assert_array_equal(seed, [1.0, 2.0])


def test_broadcast_gradients_are_writable_copies():
    z = Value(np.ones((2, 3)))
    z.sum().backward()
    z.grad[0, 0] = 5.0
    assert z.grad[0, 1] == 1.0
    w = Value(np.ones(3))
    (w + np.zeros((2, 3))).sum().backward()
    w.grad[0] = 9.0
    np.testing.assert_array_equal(w.grad, [9.0, 2.0, 2.0])


# ---- detach, no_grad, constants ---------------------------------------------------------------


def test_detach_stops_the_gradient():
    x = Value(np.array([1.0, 2.0]))
    d = x.detach()
    assert d.requires_grad is False and d.op == ""
    np.testing.assert_array_equal(d.data, x.data)
    y = (x * d).sum()  # d is a constant: dy/dx = d
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    assert not np.asarray(d.grad).any()
    s = Value(3.0)
    ((s * s).detach() * s).backward()
    assert s.grad == 9.0


def test_detach_of_an_intermediate_cuts_everything_below():
    x = Value(2.0)
    h = (x * x).exp()
    y = h.detach().log() * x
    y.backward()
    assert x.grad == pytest.approx(4.0)


def test_no_grad_records_nothing():
    x = Value(np.array([1.0, 2.0]))
    with no_grad():
        y = (x * 2.0).exp().sum()
        z = x @ x
    for v in (y, z):
        assert v.requires_grad is False
        assert v.op == ""
    np.testing.assert_allclose(y.data, np.exp([2.0, 4.0]).sum())
    w = (y * x).sum()  # y is a constant now
    w.backward()
    np.testing.assert_allclose(x.grad, [y.data, y.data])


def test_no_grad_nests_and_restores_state():
    x = Value(1.0)
    with no_grad():
        with no_grad():
            assert (x * 2.0).requires_grad is False
        assert (x * 2.0).requires_grad is False
    assert (x * 2.0).requires_grad is True
    assert (x * 2.0).op == "*"
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("inside")
    assert (x * 2.0).requires_grad is True


def test_constants_get_no_grad():
    c = Value(np.array([2.0, 3.0]), requires_grad=False)
    x = Value(np.array([1.0, 1.0]))
    (c * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])
    assert not c.grad.any()
    k = Value(5.0, requires_grad=False)
    y = Value(2.0)
    (k * y + k).backward()
    assert k.grad == 0.0 and y.grad == 5.0
    assert (k * 2.0).requires_grad is False


def test_backward_on_a_constant_graph_raises():
    k = Value(5.0, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (k * 2.0).backward()


def test_op_names():
    x = Value(1.0, label="x")
    assert x.op == "" and x.label == "x"
    names = [(x + 1.0).op, (x * 2.0).op, (x**2.0).op, x.exp().op, x.log().op, x.tanh().op]
    assert names == ["+", "*", "**", "exp", "log", "tanh"]
    y = x * 2.0
    y.label = "y"
    assert y.label == "y"


# ---- seeds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1,), (1, 1), (), (1, 1, 1)])
def test_backward_on_a_size_one_tensor_needs_no_seed(shape):
    x = Value(np.full(shape, 3.0))
    y = x * x
    y.backward()
    np.testing.assert_array_equal(x.grad, np.full(shape, 6.0))


def test_seed_of_the_right_shape_for_non_scalars():
    x = Value(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    seed = np.array([[1.0, 0.0, -1.0], [2.0, 0.5, 0.0]])
    y = x * x
    y.backward(seed)
    np.testing.assert_allclose(x.grad, 2 * x.data * seed)
    np.testing.assert_array_equal(y.grad, seed)
    z = Value(np.array([1.0, 2.0]))
    (z * 3.0).backward([1.0, -1.0])  # a list seed
    np.testing.assert_array_equal(z.grad, [3.0, -3.0])
    w = Value(np.array([1.0, 2.0]))
    (w * 3.0).backward(Value(np.array([2.0, 2.0])))  # a Value seed
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])


def test_seed_for_a_scalar():
    x = Value(2.0)
    (x * x).backward(3.0)
    assert x.grad == 12.0


def test_seed_dtype_follows_the_value():
    x = Value(np.ones(3, np.float32))
    (x * 2.0).backward(np.ones(3))  # a float64 seed
    assert x.grad.dtype == np.float32


def test_backward_does_not_modify_the_seed():
    x = Value(np.array([1.0, 2.0]))
    seed = np.array([1.0, 1.0])
    y = x * 2.0
    y.backward(seed)
    y.backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


# ---- backward_steps ------------------------------------------------------------------------


def build_graph():
    """A graph with broadcasting, reuse, a constant, a matmul and reductions."""
    x = Value(np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), label="x")
    w = Value(np.array([[0.3], [-0.2], [0.9]]), label="w")
    b = Value(0.1, label="b")
    k = Value(np.array([1.0, 2.0, 3.0]), requires_grad=False, label="k")
    h = (x @ w + b).tanh()  # (2, 1)
    z = (h * x * k).sum(axis=0)  # (3,)
    loss = z.logsumexp() + (x**2).mean() * b + h.max()
    return loss, {"x": x, "w": w, "b": b, "k": k}


def all_nodes(root):
    out, stack, seen = [], [root], set()
    while stack:
        n = stack.pop()
        if id(n) in seen or not n.requires_grad:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(p for p in n.parents if isinstance(p, Value))
    return out


def test_backward_steps_leaves_exactly_the_gradients_of_backward():
    loss1, leaves1 = build_graph()
    loss1.backward()
    loss2, leaves2 = build_graph()
    steps = list(backward_steps(loss2))
    assert steps
    for name in leaves1:
        g1, g2 = leaves1[name].grad, leaves2[name].grad
        assert type(g1) is type(g2)
        np.testing.assert_array_equal(g1, g2)
    # the intermediates too: same structure, same order of construction
    nodes1, nodes2 = all_nodes(loss1), all_nodes(loss2)
    assert len(nodes1) == len(nodes2)
    for a, b in zip(nodes1, nodes2, strict=True):
        np.testing.assert_array_equal(a.grad, b.grad)


def test_backward_steps_stopped_early_leaves_the_gradients_of_the_steps_taken():
    x = Value(2.0)
    y = x * 3.0
    z = y * y
    steps = backward_steps(z)
    next(steps)  # z: its grad is set, nothing has reached y yet
    assert (z.grad, y.grad, x.grad) == (1.0, 0.0, 0.0)
    next(steps)  # y received dz/dy = 2y = 12; x has not been reached
    assert (y.grad, x.grad) == (12.0, 0.0)
    steps.close()
    z.backward()  # a whole pass on top
    assert (z.grad, y.grad, x.grad) == (2.0, 24.0, 36.0)


def test_backward_steps_visits_every_node_once_in_reverse_topological_order():
    loss, leaves = build_graph()
    steps = list(backward_steps(loss))
    nodes = [s.node for s in steps]
    assert nodes[0] is loss
    assert len({id(n) for n in nodes}) == len(nodes)  # once each
    assert {id(n) for n in nodes} == {id(n) for n in all_nodes(loss)}  # every node
    assert id(leaves["k"]) not in {id(n) for n in nodes}  # constants are not visited
    pos = {id(n): i for i, n in enumerate(nodes)}
    for n in nodes:
        for p in n.parents:
            if isinstance(p, Value) and p.requires_grad:
                assert pos[id(n)] < pos[id(p)], f"{n.op} after its input {p.op or p.label}"


def test_backward_steps_grads_are_the_final_node_gradients():
    loss, _ = build_graph()
    steps = list(backward_steps(loss))
    for s in steps:
        np.testing.assert_array_equal(np.asarray(s.grad), np.asarray(s.node.grad))
        if s.node.op == "":
            assert s.input_grads == ()


def test_backward_steps_input_grads_match_the_vjps():
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    w = Value(np.array([0.5, -1.0]))
    m = x * w  # broadcast (2, 2) * (2,)
    t = m.tanh()
    p = t @ w
    s = p.sum()
    steps = {id(st.node): st for st in backward_steps(s)}
    st = steps[id(s)]
    assert len(st.input_grads) == 1
    np.testing.assert_array_equal(st.input_grads[0], np.ones(2))
    st = steps[id(p)]
    g = np.asarray(st.grad)
    np.testing.assert_allclose(st.input_grads[0], np.outer(g, w.data))
    np.testing.assert_allclose(st.input_grads[1], t.data.T @ g)
    st = steps[id(t)]
    np.testing.assert_allclose(st.input_grads[0], st.grad * (1 - t.data**2))
    st = steps[id(m)]
    np.testing.assert_allclose(st.input_grads[0], st.grad * w.data)
    np.testing.assert_allclose(st.input_grads[1], (st.grad * x.data).sum(axis=0))  # summed back
    assert st.input_grads[1].shape == (2,)
    # the leaf gradient is the sum of what every consumer passed to it
    np.testing.assert_allclose(
        w.grad, steps[id(m)].input_grads[1] + steps[id(p)].input_grads[1], rtol=1e-14
    )


def test_backward_steps_with_a_constant_input_passes_nothing_to_it():
    x = Value(np.array([1.0, 2.0]))
    y = x * np.array([3.0, 4.0])
    steps = list(backward_steps(y.sum()))
    step = next(s for s in steps if s.node is y)
    np.testing.assert_array_equal(step.input_grads[0], [3.0, 4.0])
    assert len(step.input_grads) == 2 and step.input_grads[1] is None


def test_backward_steps_is_lazy():
    x = Value(2.0)
    y = (x * 3.0).exp()
    gen = backward_steps(y)
    first = next(gen)
    assert first.node is y
    assert x.grad == 0.0  # not reached yet
    for _ in gen:
        pass
    assert x.grad == pytest.approx(3 * np.exp(6.0))


def test_backward_steps_refuses_a_non_scalar_or_constant_root_at_once():
    x = Value(np.ones(3))
    with pytest.raises(ValueError, match=r"starts from a scalar .* got shape \(3,\)"):
        backward_steps(x * 2.0)  # before any next(): the error points at this call
    with pytest.raises(RuntimeError, match="does not require grad"):
        backward_steps(Value(np.ones(3), requires_grad=False).sum())


def test_backward_with_create_graph_records_even_under_no_grad():
    x = Value(np.array([1.0, 2.0]))
    y = (x * x).sum()
    with no_grad():
        y.backward(create_graph=True)  # as torch: create_graph records the gradient's graph
    assert x.grad.requires_grad
    x.grad.sum().backward()  # d/dx sum(2x) = 2, added to the first pass's 2x
    np.testing.assert_array_equal(np.asarray(x.grad.data), [4.0, 6.0])


def test_an_explicit_seed_is_copied_and_must_be_real():
    x = Value(np.array([1.0, 2.0]))
    y = x * 2.0
    seed = np.ones(2)
    y.backward(seed)
    seed[0] = 100.0  # the caller's array is theirs: the root's grad does not follow it
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])
    with pytest.raises(TypeError, match="complex"):
        (x * 2.0).backward(np.array([1 + 5j, 2]))


def test_assigning_a_grad_of_the_wrong_shape_raises():
    x = Value(np.zeros(3))
    x.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        x.grad = np.zeros((2, 3))
    np.testing.assert_array_equal(x.grad, np.ones(3))
    x.grad = None  # as zero_grad()
    np.testing.assert_array_equal(x.grad, np.zeros(3))
    x.grad = [1, 2, 3]  # held in the Value's dtype, as every grad
    assert x.grad.dtype == np.float64 and np.array_equal(x.grad, [1.0, 2.0, 3.0])
    f = Value(np.zeros(2, dtype=np.float32))
    f.grad = np.ones(2)
    assert f.grad.dtype == np.float32
    with pytest.raises(TypeError, match="a grad holds real numbers, got dtype <U1"):
        x.grad = np.array(["a", "b", "c"])


def test_copies_and_pickles_of_values():
    x = Value(np.array([1.0, 2.0]), label="x")
    z = (x * 3.0).sum()
    z.backward()
    with pytest.raises(RuntimeError, match=r"deepcopy of a Value made by an op \('sum'\)"):
        copy.deepcopy(z)  # its copy's leaves, not x, would get the gradients
    d = copy.deepcopy(x)
    assert d.label == "x" and d.data is not x.data and d.grad is not x.grad
    np.testing.assert_array_equal(d.grad, x.grad)
    c = copy.copy(x)
    assert c.data is x.data and c.grad is not x.grad  # data shared, grad its own
    (x * x).sum().backward(create_graph=True)  # x's grad is now a Value with a graph
    np.testing.assert_array_equal(copy.deepcopy(x).grad, x.grad.data)  # copied as its data
    for v in (x, z):  # as PyTorch: pickled as a leaf of the same data, grad and label
        r = pickle.loads(pickle.dumps(v))
        assert r.op == "" and r.label == v.label and r.requires_grad
        np.testing.assert_array_equal(r.data, v.data)
        np.testing.assert_array_equal(r.grad, v.grad)
