"""Errors name the problem: the op, the shapes, what is missing."""

import numpy as np
import pytest

import nn
from autograd_core import Value, grad, gradcheck

OP_NAMES = {
    "+": ("+", "add"),
    "-": ("-", "sub"),
    "*": ("*", "mul"),
    "/": ("/", "div"),
    "**": ("**", "pow"),
    "@": ("@", "matmul"),
}
OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "@": lambda a, b: a @ b,
}


def assert_names(msg, op, *shapes):
    assert any(name in msg for name in OP_NAMES[op]), f"op {op!r} not named in: {msg}"
    for shp in shapes:
        assert str(shp) in msg, f"shape {shp} not named in: {msg}"


@pytest.mark.parametrize("side", ["value-value", "value-array", "array-value"])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((2, 3), (3, 2)), ((3, 1, 2), (4, 3))])
def test_broadcasting_mismatch_names_both_shapes_and_the_op(op, side, shapes):
    a = np.full(shapes[0], 1.5)
    b = np.full(shapes[1], 0.5)
    left = a if side == "array-value" else Value(a)
    right = b if side == "value-array" else Value(b)
    with pytest.raises(ValueError) as info:
        OPS[op](left, right)
    assert_names(str(info.value), op, *shapes)


MATMUL_MISMATCHES = [
    ((2, 3), (4, 5)),
    ((3,), (4,)),
    ((2, 3), (2,)),
    ((4,), (3, 2)),
    ((2, 2, 3), (4, 5)),
    ((2, 2, 3), (3, 3, 4)),  # batch dimensions that do not broadcast
]


@pytest.mark.parametrize("side", ["value-value", "value-array", "array-value"])
@pytest.mark.parametrize("shapes", MATMUL_MISMATCHES, ids=str)
def test_matmul_mismatch_names_both_shapes_and_the_op(shapes, side):
    a, b = np.ones(shapes[0]), np.ones(shapes[1])
    left = a if side == "array-value" else Value(a)
    right = b if side == "value-array" else Value(b)
    with pytest.raises(ValueError) as info:
        left @ right
    assert_names(str(info.value), "@", *shapes)


def test_a_dense_layer_given_the_wrong_number_of_features_names_the_shapes():
    with pytest.raises(ValueError) as info:
        nn.Dense(3, 4)(np.ones((2, 5)))
    assert_names(str(info.value), "@", (2, 5), (3, 4))


def test_backward_on_a_non_scalar_without_seed_says_so():
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"scalar") as info:
        y.backward()
    assert "(2, 3)" in str(info.value)
    assert "seed" in str(info.value) or "grad" in str(info.value)


@pytest.mark.parametrize(
    "shape, seed_shape", [((2, 3), (3,)), ((2, 3), (3, 2)), ((), (3,)), ((4,), (1, 4))]
)
def test_seed_of_the_wrong_shape_names_both_shapes(shape, seed_shape):
    y = Value(np.ones(shape)) * 2.0
    with pytest.raises(ValueError) as info:
        y.backward(np.ones(seed_shape))
    assert str(seed_shape) in str(info.value)
    assert str(shape) in str(info.value)


def test_a_failed_backward_leaves_no_gradient():
    x = Value(np.ones(3))
    with pytest.raises(ValueError, match=r"seed has shape \(2,\), but the Value has shape \(3,\)"):
        (x * 2.0).backward(np.ones(2))
    assert not x.grad.any()


def test_gradcheck_failure_names_input_index_and_values():
    def f(a, b):
        return (a * b.detach() * b).sum()  # wrong d/db: a*b instead of 2*a*b

    a = np.array([1.0, 2.0])
    b = np.array([[3.0, 1.0], [0.5, 4.0]])
    with pytest.raises(AssertionError) as info:
        gradcheck(f, a, b)
    msg = str(info.value)
    assert "input 1" in msg  # b
    assert "(1, 1)" in msg  # the worst: |a b - 2 a b| = a b is largest at b[1, 1]
    assert "reverse-mode 8" in msg and "finite-difference 16" in msg


def test_grad_of_a_non_scalar_function_names_the_shape():
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        grad(lambda x: x * 2.0)(np.ones((2, 2)))


def test_item_of_a_tensor_names_the_shape():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        Value(np.ones((2, 3))).item()


@pytest.mark.parametrize("data", [1 + 2j, np.array(["a", "b"]), np.array([1j])], ids=str)
def test_non_real_data_is_refused(data):
    with pytest.raises(TypeError):
        Value(data)


@pytest.mark.parametrize(
    "operand",
    [np.complex128(1j), 1j, np.array([1, 2], dtype=object), np.array(["a", "b"])],
    ids=["complex scalar", "python complex", "object array", "string array"],
)
def test_non_real_operands_are_refused(operand):
    """(They made complex or object Values whose backward gave zeros or crashed.)"""
    x = Value(np.ones(2))
    for op in (lambda: x * operand, lambda: operand + x):
        with pytest.raises(TypeError, match="Value holds real numbers, got an operand of dtype"):
            op()


@pytest.mark.parametrize("make", [lambda x, a, b: x * [a, b], lambda x, a, b: [[a, b]] - x])
def test_a_list_of_values_as_an_operand_is_refused(make):
    """As an array it would be a constant: a and b would get no gradient, without a word."""
    a, b, x = Value(1.0), Value(2.0), Value(np.ones(2))
    with pytest.raises(TypeError, match="a list holding Values"):
        make(x, a, b)


def test_clip_bounds_are_constants():
    x = Value(np.array([-2.0, 0.0, 2.0]))
    with pytest.raises(TypeError, match="clip's bounds are constants"):
        x.clip(Value(-1.0), 1.0)
    out = x.clip(Value(-1.0, requires_grad=False), [1.0, 1.0, 1.0])  # constants: fine
    np.testing.assert_array_equal(out.data, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", [int, np.int32, bool, complex], ids=str)
def test_a_dtype_that_is_not_floating_point_is_refused_by_name(dtype):
    # an integer Value would truncate its gradients (0.5 -> 0) without a word
    with pytest.raises(TypeError, match=f"dtype={np.dtype(dtype)}"):
        Value(np.array([1.0, 2.0]), dtype=dtype)


@pytest.mark.parametrize("axes", [(1, 2), (0, 3), (0, -3)], ids=str)
def test_transpose_axes_out_of_range_raise_as_in_numpy(axes):
    v = Value(np.zeros((2, 3)))
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        np.zeros((2, 3)).transpose(*axes)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        v.transpose(*axes)


@pytest.mark.parametrize("axis", [2, -3, (0, 2)], ids=str)
def test_mean_over_an_axis_out_of_range_names_it_as_sum_does(axis):
    for reduce in (Value.mean, Value.sum):
        with pytest.raises(np.exceptions.AxisError, match="out of bounds for array of dimension 2"):
            reduce(Value(np.ones((2, 3))), axis=axis)


def test_an_array_error_that_is_not_about_broadcasting_is_not_called_one():
    with pytest.raises(OverflowError):  # NumPy's own error, not "cannot broadcast () and ()"
        Value(np.array(2.0)) + 10**400
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        Value(np.array([1.0])) / 0.0
