"""Property tests: random expression graphs built from the primitives.

A program is drawn step by step while it is evaluated in NumPy, so that each step can be chosen
where it is smooth: exp of bounded values, log and sqrt of values bounded away from 0, relu / abs
away from 0, max without near ties.  Each program is replayed with Values and with NumPy; the
forwards must agree, and reverse-mode gradients must agree with finite differences (gradcheck).
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Value, backward_steps, gradcheck

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ELEMENTS = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False, width=64)


def np_logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else r.reshape(np.sum(a, axis=axis).shape)


class NP:
    """The NumPy side of each method."""

    tanh, exp, log, sqrt, abs = np.tanh, np.exp, np.log, np.sqrt, np.abs

    @staticmethod
    def sigmoid(a):
        return 1 / (1 + np.exp(-a))

    @staticmethod
    def relu(a):
        return np.maximum(a, 0)

    @staticmethod
    def sum(a, axis, keepdims):
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def mean(a, axis, keepdims):
        return np.mean(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def max(a, axis, keepdims):
        return np.max(a, axis=axis, keepdims=keepdims)

    logsumexp = staticmethod(np_logsumexp)

    @staticmethod
    def softmax(a, axis):
        return np.exp(a - np_logsumexp(a, axis, True))

    @staticmethod
    def log_softmax(a, axis):
        return a - np_logsumexp(a, axis, True)

    @staticmethod
    def reshape(a, shape):
        return np.reshape(a, shape)

    @staticmethod
    def transpose(a, axes):
        return np.transpose(a, axes)


class V:
    """The Value side: the methods of the contract."""


for _name in ("tanh", "exp", "log", "sqrt", "abs", "sigmoid", "relu"):
    setattr(V, _name, staticmethod(lambda a, _n=_name: getattr(a, _n)()))
V.sum = staticmethod(lambda a, axis, keepdims: a.sum(axis=axis, keepdims=keepdims))
V.mean = staticmethod(lambda a, axis, keepdims: a.mean(axis=axis, keepdims=keepdims))
V.max = staticmethod(lambda a, axis, keepdims: a.max(axis=axis, keepdims=keepdims))
V.logsumexp = staticmethod(lambda a, axis, keepdims: a.logsumexp(axis=axis, keepdims=keepdims))
V.softmax = staticmethod(lambda a, axis: a.softmax(axis=axis))
V.log_softmax = staticmethod(lambda a, axis: a.log_softmax(axis=axis))
V.reshape = staticmethod(lambda a, shape: a.reshape(shape))
V.transpose = staticmethod(lambda a, axes: a.transpose(axes))


def apply(step, B, env, inputs, cast):
    """One step of a program: ``env`` holds the intermediates, ``inputs`` the leaves."""
    kind, *args = step
    h = env[-1]
    if kind == "unary":
        return getattr(B, args[0])(h)
    if kind == "log_pos":
        return B.log(h * h + 0.5)
    if kind == "exp_bounded":
        return B.exp(h)
    if kind == "number":
        op, c = args
        if op == "+":
            return h + c
        if op == "*":
            return h * c
        if op == "r-":
            return c - h
        if op == "r/":
            return c / (h * h + 1.0)
        if op == "**":
            return (h * h + 0.5) ** c
        if op == "r**":
            return (abs(float(c)) + 0.5) ** h
        raise AssertionError(op)
    if kind == "constant":
        op, arr = args
        arr = cast(arr)
        return h + arr if op == "+" else arr * h
    if kind in ("leaf", "reuse"):
        op, ref, order = args
        other = inputs[ref] if kind == "leaf" else env[ref]
        a, b = (h, other) if order == 0 else (other, h)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / (b * b + 0.5)
        if op == "**":
            return (a * a + 0.5) ** b
        raise AssertionError(op)
    if kind == "reduce":
        name, axis, keepdims = args
        return getattr(B, name)(h, axis, keepdims)
    if kind == "softmax":
        name, axis = args
        return getattr(B, name)(h, axis)
    if kind == "matmul":
        ref, side = args
        w = inputs[ref]
        return h @ w if side == "right" else w @ h
    if kind == "reshape":
        return B.reshape(h, args[0])
    if kind == "transpose":
        return B.transpose(h, args[0])
    if kind == "index":
        return h[args[0]]
    raise AssertionError(kind)


def run(program, inputs, B, cast=lambda a: a):
    env = [inputs[0]]
    for step in program["steps"]:
        env.append(apply(step, B, env, inputs, cast))
    out = env[-1]
    w = cast(program["weights"])
    return (out * w).sum() if np.ndim(w) else out * float(w)


# ---- drawing a program -----------------------------------------------------------------------


def small_shapes(min_dims=0):
    return st.lists(st.integers(1, 3), min_size=min_dims, max_size=3).map(tuple)


def draw_array(draw, shape):
    if shape is None:
        return draw(ELEMENTS)
    return draw(hnp.arrays(np.float64, shape, elements=ELEMENTS))


def broadcast_partner(draw, shape):
    """A shape that broadcasts with ``shape`` (possibly growing the result), or None (a float)."""
    kind = draw(st.sampled_from(["same", "ones", "drop", "grow", "scalar"]))
    if kind == "scalar":
        return draw(st.sampled_from([None, ()]))
    shp = list(shape)
    if kind == "ones":
        shp = [1 if draw(st.booleans()) else n for n in shp]
    elif kind == "drop" and shp:
        shp = shp[draw(st.integers(1, len(shp))) :]
    elif kind == "grow" and len(shp) < 3:
        shp = [draw(st.integers(1, 2))] + shp
    return tuple(shp)


def draw_axis(draw, ndim):
    if ndim == 0:
        return None
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none":
        return None
    if choice == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def no_near_ties(a, axis, gap=1e-2):
    a = np.asarray(a)
    if a.ndim == 0:
        return True
    axes = tuple(range(a.ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(x % a.ndim for x in axes)
    rest = [i for i in range(a.ndim) if i not in axes]
    groups = np.transpose(a, rest + list(axes)).reshape(
        -1, int(np.prod([a.shape[i] for i in axes]))
    )
    if groups.shape[1] < 2:
        return True
    top = np.sort(groups, axis=1)[:, -2:]
    return bool(np.all(top[:, 1] - top[:, 0] > gap))


@st.composite
def programs(draw, max_steps=6):
    shape = draw(small_shapes())
    x0 = draw_array(draw, None if shape == () and draw(st.booleans()) else shape)
    inputs = [x0]
    steps = []
    env = [np.asarray(x0, dtype=np.float64)]
    for _ in range(draw(st.integers(1, max_steps))):
        h = env[-1]
        nd, shp = h.ndim, h.shape
        kinds = ["unary", "log_pos", "number", "constant", "leaf", "leaf", "reuse", "reduce"]
        if nd >= 1:
            kinds += ["softmax", "matmul", "reshape", "index"]
        if nd >= 2:
            kinds += ["transpose"]
        if np.max(np.abs(h)) < 4:
            kinds.append("exp_bounded")
        kind = draw(st.sampled_from(kinds))
        if kind == "unary":
            names = ["tanh", "sigmoid"]
            if np.min(h) > 0.2:
                names += ["log", "sqrt"]
            if np.min(np.abs(h)) > 0.05:
                names += ["relu", "abs"]
            step = ("unary", draw(st.sampled_from(names)))
        elif kind == "number":
            op = draw(st.sampled_from(["+", "*", "r-", "r/", "**", "r**"]))
            c = draw(st.sampled_from([2.0, -0.5, 3, 1.5]))
            step = ("number", op, c)
        elif kind == "constant":
            const = draw(
                hnp.arrays(np.float64, broadcast_partner(draw, shp) or (), elements=ELEMENTS)
            )
            step = ("constant", draw(st.sampled_from(["+", "*"])), const)
        elif kind == "leaf":
            pshape = broadcast_partner(draw, shp)
            inputs.append(draw_array(draw, pshape))
            op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
            step = ("leaf", op, len(inputs) - 1, draw(st.integers(0, 1)))
        elif kind == "reuse":
            ref = draw(st.integers(0, len(env) - 1))
            try:
                np.broadcast_shapes(env[ref].shape, shp)
            except ValueError:
                ref = len(env) - 1
            step = ("reuse", draw(st.sampled_from(["+", "*", "-"])), ref, draw(st.integers(0, 1)))
        elif kind == "reduce":
            axis = draw_axis(draw, nd)
            names = ["sum", "mean", "logsumexp"] + (["max"] if no_near_ties(h, axis) else [])
            step = ("reduce", draw(st.sampled_from(names)), axis, draw(st.booleans()))
        elif kind == "softmax":
            axis = draw(st.integers(-nd, nd - 1))
            step = ("softmax", draw(st.sampled_from(["softmax", "log_softmax"])), axis)
        elif kind == "matmul":
            if nd >= 2 and draw(st.booleans()):
                w = draw_array(draw, (draw(st.integers(1, 3)), shp[-2]))
                inputs.append(w)
                step = ("matmul", len(inputs) - 1, "left")
            else:
                k = draw(st.sampled_from([None, 1, 2, 3]))
                inputs.append(draw_array(draw, (shp[-1],) if k is None else (shp[-1], k)))
                step = ("matmul", len(inputs) - 1, "right")
        elif kind == "reshape":
            target = draw(st.sampled_from(["flat", "reversed", "lead1", "-1"]))
            new = {
                "flat": (h.size,),
                "reversed": shp[::-1],
                "lead1": (1,) + shp if nd < 3 else shp,
                "-1": (-1,) + shp[1:] if nd >= 2 else (-1,),
            }[target]
            step = ("reshape", new)
        elif kind == "transpose":
            step = ("transpose", tuple(draw(st.permutations(range(nd)))))
        elif kind == "index":
            idx = np.array(draw(st.lists(st.integers(0, shp[0] - 1), min_size=1, max_size=4)))
            step = ("index", idx)
        else:  # exp_bounded
            step = ("exp_bounded",)
        steps.append(step)
        env.append(np.asarray(apply(step, NP, env, [np.asarray(i) for i in inputs], lambda a: a)))
        if env[-1].size > 48 or np.max(np.abs(env[-1])) > 1e3:
            steps.pop()
            env.pop()
            break
    out_shape = env[-1].shape
    weights = draw(hnp.arrays(np.float64, out_shape, elements=st.floats(-2, 2, width=64)))
    return {"steps": steps, "weights": weights}, inputs


# ---- properties ------------------------------------------------------------------------------


@SETTINGS
@given(programs())
def test_reverse_mode_gradients_match_finite_differences(case):
    program, inputs = case
    assert gradcheck(lambda *vs: run(program, vs, V), *inputs)


@SETTINGS
@given(programs())
def test_forward_matches_numpy(case):
    program, inputs = case
    out = run(program, [Value(x) for x in inputs], V)
    ref = run(program, [np.asarray(x, dtype=np.float64) for x in inputs], NP)
    assert isinstance(out, Value) and out.size == 1
    np.testing.assert_allclose(float(out), float(ref), rtol=1e-9, atol=1e-9)


@settings(SETTINGS, max_examples=30)
@given(programs())
def test_float32_programs_stay_float32(case):
    """Float32 values and gradients agree with float64 on the same (rounded) inputs: the value
    with NumPy's, the gradients with the float64 Values' (checked against finite differences
    above).  Normwise (atol 1e-4 times at least 1; inputs are O(1)): a result that cancels to
    near 0 keeps no relative digits in float32."""
    program, inputs = case
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    rounded = lambda a: f32(a).astype(np.float64)
    vals = [Value(f32(x)) for x in inputs]
    out = run(program, vals, V, cast=f32)
    assert out.dtype == np.float32
    out.backward()
    ref = run(program, [rounded(x) for x in inputs], NP, cast=rounded)
    np.testing.assert_allclose(float(out), float(ref), rtol=1e-4, atol=1e-4)
    refs = [Value(rounded(x)) for x in inputs]
    run(program, refs, V, cast=rounded).backward()
    scale = max(1.0, *(np.max(np.abs(r.grad), initial=0.0) for r in refs))
    for v, r in zip(vals, refs):
        assert v.grad.dtype == np.float32 and v.grad.shape == v.shape
        np.testing.assert_allclose(v.grad, r.grad, rtol=1e-4, atol=1e-4 * scale)


@settings(SETTINGS, max_examples=30)
@given(programs())
def test_backward_steps_and_repeated_backward_agree_with_backward(case):
    program, inputs = case
    a = [Value(x) for x in inputs]
    b = [Value(x) for x in inputs]
    out_a = run(program, a, V)
    out_a.backward()
    out_b = run(program, b, V)
    nodes = [s.node for s in backward_steps(out_b)]
    assert len({id(n) for n in nodes}) == len(nodes)
    for va, vb in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(va.grad), np.asarray(vb.grad))
    first = [np.array(v.grad, dtype=np.float64) for v in a]
    out_a.backward()  # the same graph again: exactly one more gradient
    for v, g in zip(a, first, strict=True):
        np.testing.assert_allclose(np.asarray(v.grad), 2 * g, rtol=1e-12, atol=1e-300)
