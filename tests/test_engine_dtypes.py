"""dtype rules, scalars and conversions: what Value holds and what its grads are."""

import numpy as np
import pytest

from autograd_core import Value, grad, value_and_grad


def f32(*shape, lo=0.5, hi=1.5, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(np.float32)


# ---- what Value stores ----------------------------------------------------------------------


@pytest.mark.parametrize("x", [3, 2.5, -1, True, 0], ids=repr)
def test_a_python_number_becomes_a_python_float(x):
    v = Value(x)
    assert type(v.data) is float
    assert v.data == float(x)
    assert v.shape == () and v.ndim == 0 and v.size == 1
    assert v.dtype == np.float64
    assert type(v.grad) is float and v.grad == 0.0


@pytest.mark.parametrize(
    "x",
    [[1, 2, 3], np.arange(3), np.arange(3, dtype=np.int32), np.array([1, 0, 1], dtype=np.uint8),
     np.array([True, False]), [[1.0, 2.0]], np.arange(3.0)],
    ids=["int list", "int64", "int32", "uint8", "bool", "float list", "float64"],
)  # fmt: skip
def test_integer_bool_and_list_data_become_float64(x):
    v = Value(x)
    assert isinstance(v.data, np.ndarray)
    assert v.dtype == np.float64 == v.data.dtype
    np.testing.assert_array_equal(v.data, np.asarray(x, dtype=np.float64))
    assert v.grad.dtype == np.float64 and v.grad.shape == v.shape


def test_float32_stays_float32_and_dtype_overrides():
    v = Value(f32(2, 3))
    assert v.dtype == np.float32 and v.data.dtype == np.float32
    assert Value(np.arange(3.0), dtype=np.float32).dtype == np.float32
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    assert Value(f32(3), dtype=np.float64).dtype == np.float64
    assert Value(np.arange(3.0), dtype="float32").data.dtype == np.float32


def test_value_from_another_values_data():
    a = Value(f32(3))
    b = Value(a.data)
    assert b.dtype == np.float32
    np.testing.assert_array_equal(b.data, a.data)
    c = Value(Value(2.0).data)
    assert type(c.data) is float


@pytest.mark.parametrize(
    "scalar, dtype",
    [(np.float64(2.5), np.float64), (np.float32(2.5), np.float32), (np.int64(2), np.float64),
     (np.float16(1.5), np.float16)],
    ids=["float64", "float32", "int64", "float16"],
)  # fmt: skip
def test_numpy_scalars_behave_like_0d_arrays(scalar, dtype):
    v = Value(scalar)
    w = Value(np.asarray(scalar))
    for u in (v, w):
        assert isinstance(u.data, np.ndarray) and u.data.ndim == 0
        assert u.dtype == dtype
        assert u.shape == () and u.size == 1
        assert float(u) == float(scalar)
    # in expressions: exactly as a 0-d array of the same dtype would combine (NumPy rules)
    arr32 = f32(3)
    assert (Value(arr32) * scalar).dtype == (arr32 * np.asarray(scalar)).dtype
    out = scalar * Value(arr32)
    assert isinstance(out, Value)
    assert out.dtype == (np.asarray(scalar) * arr32).dtype
    np.testing.assert_allclose(out.data, np.asarray(scalar) * arr32)


def test_a_0d_float32_gradient_summed_over_two_paths_is_a_0d_array():
    # NumPy adds two 0-d arrays into a NumPy scalar; a grad has its Value's kind and dtype
    w = Value(np.array(3.0, np.float32))
    (w * w + w).backward()
    assert type(w.grad) is np.ndarray and w.grad.dtype == np.float32 and w.grad == 7.0
    g = grad(lambda x: x * x)(np.array(3.0, np.float32))
    assert type(g) is np.ndarray and g.dtype == np.float32 and g == 6.0


def test_numpy_scalar_with_a_python_float_value_gives_a_0d_array():
    out = np.float64(2.0) * Value(3.0)
    assert isinstance(out, Value)
    assert isinstance(out.data, np.ndarray) and out.data.ndim == 0
    assert float(out) == 6.0


# ---- dtype through every op --------------------------------------------------------------------

OPS = {
    "add number": lambda a: a + 2.0,
    "add int": lambda a: a + 1,
    "radd": lambda a: 2.0 + a,
    "sub": lambda a: a - 1.5,
    "rsub": lambda a: 1.5 - a,
    "mul": lambda a: a * 2.0,
    "rmul int": lambda a: 2 * a,
    "div": lambda a: a / 3.0,
    "rdiv": lambda a: 3.0 / a,
    "pow float": lambda a: a**2.0,
    "pow int": lambda a: a**3,
    "rpow": lambda a: 2.0**a,
    "pow scalar Value": lambda a: a ** Value(2.0),
    "mul scalar Value": lambda a: a * Value(2.0),
    "add self": lambda a: a + a,
    "mul self": lambda a: a * a,
    "div self": lambda a: a / (a + 1.0),
    "pow self": lambda a: a**a,
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "sqrt": lambda a: a.sqrt(),
    "abs": lambda a: a.abs(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: (a - 1.0).relu(),
    "sigmoid": lambda a: a.sigmoid(),
    "softmax": lambda a: a.softmax(),
    "softmax axis 0": lambda a: a.softmax(axis=0),
    "log_softmax": lambda a: a.log_softmax(),
    "logsumexp": lambda a: a.logsumexp(),
    "logsumexp axis": lambda a: a.logsumexp(axis=1, keepdims=True),
    "sum": lambda a: a.sum(),
    "sum axis": lambda a: a.sum(axis=0),
    "mean": lambda a: a.mean(),
    "mean axis": lambda a: a.mean(axis=(0, 1), keepdims=True),
    "max": lambda a: a.max(),
    "max axis": lambda a: a.max(axis=1),
    "reshape": lambda a: a.reshape(-1),
    "transpose": lambda a: a.transpose(1, 0),
    "T": lambda a: a.T,
    "index int": lambda a: a[1],
    "index array": lambda a: a[np.array([0, 0, 1])],
    "index mask": lambda a: a[a.data > 1.0],
    "index slice": lambda a: a[:, 1:],
    "clip": lambda a: a.clip(0.7, 1.2),
    "clip lo": lambda a: a.clip(0.9),
    "matmul self": lambda a: a @ a.T,
    "matmul f32 array": lambda a: a @ np.ones(3, np.float32),
    "rmatmul f32 array": lambda a: np.ones(2, np.float32) @ a,
    "add f32 array": lambda a: np.ones(3, np.float32) + a,
    "mul f32 Value": lambda a: a * Value(np.full(3, 2.0, np.float32)),
}


@pytest.mark.parametrize("name", OPS)
def test_float32_stays_float32_through_every_op_and_its_grad(name):
    x = Value(f32(2, 3))
    out = OPS[name](x)
    assert out.dtype == np.float32, f"{name} gave {out.dtype}"
    loss = out.sum() if out.size > 1 else out
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    assert x.grad.shape == (2, 3)
    assert out.grad.dtype == np.float32


def test_python_scalars_never_widen_a_0d_float32():
    x = Value(np.float32(1.5))
    for out in (x * 2.0, 2.0 * x, x + 1, x / 3.0, x**2, 2.0**x, x - Value(1.0)):
        assert out.dtype == np.float32
    y = x * 2.0
    y.backward()
    assert np.asarray(x.grad).dtype == np.float32


def test_grads_have_their_values_dtype_when_dtypes_mix():
    a, b = Value(f32(3)), Value(np.arange(1.0, 4.0))
    out = a * b
    assert out.dtype == np.float64  # NumPy's rule for float32 (op) float64 arrays
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, b.data, rtol=1e-6)
    np.testing.assert_allclose(b.grad, a.data, rtol=1e-6)


def test_a_float32_leaf_broadcast_against_float64_gets_a_float32_grad():
    a = Value(f32(3))
    b = Value(np.ones((2, 3)))
    (a + b).sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.shape == (3,)
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])


def test_scalar_value_and_its_grad_stay_python_floats():
    x, y = Value(2.0), Value(3.0)
    z = (x * y + x.exp() - y / x) ** 2.0
    assert type(z.data) is float
    z.backward()
    assert type(x.grad) is float and type(y.grad) is float
    assert type(z.grad) is float


def test_scalar_value_mixed_with_an_array_has_a_float_grad():
    s = Value(2.0)
    a = Value(np.arange(3.0))
    (s * a).sum().backward()
    assert type(s.grad) is float
    assert s.grad == 3.0
    assert a.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])


def test_scalar_value_with_a_float32_array_does_not_widen():
    s = Value(2.0)
    a = Value(f32(3))
    out = a * s
    assert out.dtype == np.float32
    out.sum().backward()
    assert type(s.grad) is float
    assert a.grad.dtype == np.float32


def test_grad_function_keeps_the_arguments_dtype_and_shape():
    g = grad(lambda x: (x * x).sum())(f32(2, 3))
    assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.shape == (2, 3)
    g = grad(lambda x: x * x)(3.0)
    assert type(g) is float and g == 6.0
    g = grad(lambda x: x * 3.0)(np.array(2.0))
    assert np.shape(g) == () and np.asarray(g).dtype == np.float64 and float(g) == 3.0
    v, g = value_and_grad(lambda x: (x**2).sum())(np.arange(3))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [0.0, 2.0, 4.0])
    assert float(v) == 5.0


# ---- conversions and attributes -------------------------------------------------------------


def test_conversions_and_attributes_of_a_scalar():
    v = Value(2.5)
    assert v.item() == 2.5 and type(v.item()) is float
    assert float(v) == 2.5
    a = np.asarray(v)
    assert isinstance(a, np.ndarray) and a.shape == () and a.dtype == np.float64 and a == 2.5
    assert v.shape == () and v.ndim == 0 and v.size == 1 and v.dtype == np.float64


@pytest.mark.parametrize("shape", [(1,), (1, 1), ()])
def test_conversions_of_size_one_tensors(shape):
    v = Value(np.full(shape, 1.25, dtype=np.float32))
    assert v.item() == 1.25 and type(v.item()) is float
    assert float(v) == 1.25
    assert v.size == 1 and v.shape == shape and v.ndim == len(shape)
    assert v.dtype == np.float32


def test_conversions_and_attributes_of_a_tensor():
    x = f32(2, 3, 4)
    v = Value(x)
    assert v.shape == (2, 3, 4) and v.ndim == 3 and v.size == 24 and v.dtype == np.float32
    a = np.asarray(v)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(np.asarray(v, dtype=np.float64), x.astype(np.float64))
    assert len(v) == 2
    not_one_number = r"needs a Value of size 1, got shape \(2, 3, 4\)"
    with pytest.raises(ValueError, match=not_one_number):
        v.item()
    with pytest.raises(ValueError, match=not_one_number):  # float() goes through item()
        float(v)


def test_np_array_of_a_value_is_a_copy():
    """``np.array(v)`` copies, as for any array-like: writing to it leaves ``v`` alone."""
    x = np.array([1.0, 2.0, 3.0])
    v = Value(x)
    snapshot = np.array(v)
    snapshot[0] = 99.0
    assert v.data[0] == 1.0
    assert not np.shares_memory(np.array(v), v.data)


def test_ndarray_op_value_returns_a_value():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = Value(np.array([[0.5, 1.5], [2.5, 0.25]]))
    for op in (
        lambda p, q: p + q,
        lambda p, q: p - q,
        lambda p, q: p * q,
        lambda p, q: p / q,
        lambda p, q: p**q,
        lambda p, q: p @ q,
    ):
        out = op(a, v)
        assert isinstance(out, Value)
        np.testing.assert_allclose(out.data, op(a, v.data), rtol=1e-12)
        out.sum().backward()
        assert v.grad.shape == (2, 2)
        v.zero_grad()
