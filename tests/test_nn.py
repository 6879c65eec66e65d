"""Tests for nn: modules, layers, init, state dicts and save/load, and fit."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
from scipy import stats

import autograd_core
import losses
import nn
from autograd_core import Value, gradcheck, no_grad


class Net(nn.Module):
    """Parameters in a direct attribute, a list, a dict, a raw Value and a private attribute."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Dense(3, 4, rng=0)
        self.layers = [nn.Dense(4, 4, rng=1), nn.Tanh(), nn.Dense(4, 2, rng=2)]
        self.heads = {"a": nn.Dense(2, 1, rng=3), "b": nn.Dense(2, 1, bias=False, rng=4)}
        self.scale = Value(np.ones(2), label="scale")
        self._cache = Value(np.zeros(2))  # private: not a parameter
        self.alias = self.fc  # the same module twice: listed once

    def forward(self, x):
        h = self.fc(x)
        for layer in self.layers:
            h = layer(h)
        h = h * self.scale
        return self.heads["a"](h) + self.heads["b"](h)


def bce(p, y):
    """Binary cross-entropy written with Value ops: -mean(y log p + (1 - y) log(1 - p))."""
    return -(y * p.log() + (1.0 - y) * (1.0 - p).log()).mean()


# -- parameter discovery and Module bookkeeping ------------------------------------------------


def test_named_parameters_follow_attributes_lists_and_dicts_in_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "fc.weight",
        "fc.bias",
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "scale",
    ]
    assert net.parameters() == [p for _, p in net.named_parameters()]
    assert net.fc.weight.shape == (3, 4) and net.fc.bias.shape == (4,)
    assert all(p.requires_grad for p in net.parameters())
    assert (net.fc.weight.label, net.fc.bias.label) == ("weight", "bias")


def test_parameters_are_leaves_with_distinct_names():
    class Cache(nn.Module):
        def __init__(self):
            super().__init__()
            self.d = nn.Dense(2, 2, rng=0)

        def forward(self, x):
            self.h = self.d(x)  # an activation kept for inspection: not a parameter
            return self.h

    m = Cache()
    m(np.ones((3, 2)))
    assert [n for n, _ in m.named_parameters()] == ["d.weight", "d.bias"]
    m.load_state_dict(Cache().state_dict())  # a fresh model's checkpoint fits

    class Clash(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = {"x.y": Value(np.ones(2)), "x": {"y": Value(np.zeros(2))}}

    with pytest.raises(ValueError, match=r"two parameters are named 'heads.x.y'"):
        Clash().state_dict()  # one of them would be lost in a saved file


def test_a_parameter_is_not_replaced_by_a_non_value():
    d = nn.Dense(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"cannot replace parameter 'weight' by a ndarray"):
        d.weight = np.ones((2, 2))  # it would silently stop being trained and saved
    with pytest.raises(TypeError, match=r"'weight' by the result of an op \('\*'\)"):
        d.weight *= 0.5  # outside no_grad(): a new node, which would not be trained
    with no_grad():
        d.weight *= 0.5  # in place: still the parameter
    assert [n for n, _ in d.named_parameters()] == ["weight", "bias"]
    d.weight = Value(np.ones((2, 2)))  # a Value, or None, is fine
    d._cache = Value(np.ones(2))  # a private attribute is not a parameter: anything goes
    d._cache = np.zeros(2)
    d.bias = None
    assert [n for n, _ in d.named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match=r"train\(\) takes True or False, got 'no'"):
        d.train("no")


def test_children_know_their_name_in_the_parent():
    net = Net()
    assert net.fc._name == "fc"
    assert net.layers[2]._name == "layers.2"
    assert net.heads["b"]._name == "heads.b"
    assert nn.Dense(2, 2)._name == "Dense"
    seq = nn.Sequential(nn.Dense(2, 3), nn.ReLU())
    assert [layer._name for layer in seq] == ["0", "1"]


def test_call_runs_forward_inside_the_module_scope(monkeypatch):
    entered = []
    real_scope = autograd_core.scope

    def recording_scope(module):
        entered.append(module)
        return real_scope(module)

    monkeypatch.setattr(autograd_core, "scope", recording_scope)
    model = nn.Sequential(nn.Dense(2, 3), nn.ReLU())
    model(np.ones((1, 2)))
    assert entered == [model, model[0], model[1]]


def test_zero_grad_train_eval_and_repr():
    net = Net()
    net(np.ones((5, 3))).sum().backward()
    assert np.any(net.fc.weight.grad != 0)
    net.zero_grad()
    assert all(np.all(p.grad == 0) for p in net.parameters())

    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert len(net.modules()) == 7  # net, fc, 3 in layers, 2 heads
    net.train()
    assert all(m.training for m in net.modules())

    model = nn.Sequential(
        nn.Dense(64, 128), nn.ReLU(), nn.Sequential(nn.Dense(128, 10, bias=False), nn.Softmax())
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Dense(64, 128)  # 8,320 parameters\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dense(128, 10, bias=False)  # 1,280 parameters\n"
        "    (1): Softmax(axis=-1)\n"
        "  )  # 1,280 parameters\n"
        ")  # 9,600 parameters"
    )
    assert repr(nn.Softmax()) == "Softmax(axis=-1)"  # no parameters: no count
    assert repr(nn.Dense(1, 1, bias=False)) == "Dense(1, 1, bias=False)  # 1 parameter"


def test_sequential_indexing_and_len():
    a, b, c = nn.Dense(2, 3), nn.Tanh(), nn.Dense(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(seq[1:]) == 2 and seq[1:][1] is c and list(seq[::2]) == [a, c]
    # a slice keeps the layers' names, as in PyTorch: its checkpoint keys are the model's
    assert list(seq[1:].state_dict()) == ["2.weight", "2.bias"]
    with pytest.raises(TypeError):
        nn.Sequential(a, "not a module")


# -- layers ------------------------------------------------------------------------------------


def test_dense_forward_is_x_at_W_plus_b_and_gradients_are_right():
    rng = np.random.default_rng(0)
    layer = nn.Dense(4, 3, rng=1)
    layer.bias.data = rng.normal(size=3)
    x, c = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    out = layer(x)
    np.testing.assert_allclose(out.data, x @ layer.weight.data + layer.bias.data)

    (out * c).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, x.T @ c)
    np.testing.assert_allclose(layer.bias.grad, c.sum(axis=0))

    def f(x, w, b):
        layer.weight, layer.bias = w, b
        return (layer(x).tanh() * c).sum()

    assert gradcheck(f, x, layer.weight.data.copy(), layer.bias.data.copy())

    no_bias = nn.Dense(4, 3, bias=False, rng=1)
    assert no_bias.bias is None and len(no_bias.parameters()) == 1
    np.testing.assert_allclose(no_bias(x).data, x @ no_bias.weight.data)


def test_dense_init_names_and_seeds():
    assert np.array_equal(nn.Dense(5, 6, rng=3).weight.data, nn.Dense(5, 6, rng=3).weight.data)
    np.testing.assert_array_equal(
        nn.Dense(5, 6, init="he", rng=3).weight.data, nn.init.he_normal((5, 6), rng=3)
    )
    np.testing.assert_array_equal(
        nn.Dense(5, 6, rng=3).weight.data, nn.init.xavier_uniform((5, 6), rng=3)
    )
    with pytest.raises(ValueError, match="xavier"):
        nn.Dense(5, 6, init="glorot")


def test_activation_modules_match_numpy():
    x = np.array([[-2.0, 0.5, 3.0], [1.0, -1.0, 0.0]])
    np.testing.assert_allclose(nn.ReLU()(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)))
    e = np.exp(x)
    np.testing.assert_allclose(nn.Softmax()(x).data, e / e.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(axis=0)(x).data, e / e.sum(axis=0, keepdims=True))


def test_mlp_activation_names_and_init():
    model = nn.MLP([3, 5, 4, 2], activation="tanh", output_activation="softmax", rng=0)
    kinds = [type(layer) for layer in model]
    assert kinds == [nn.Dense, nn.Tanh, nn.Dense, nn.Tanh, nn.Dense, nn.Softmax]
    out = model(np.ones((7, 3)))
    assert out.shape == (7, 2)
    np.testing.assert_allclose(out.data.sum(axis=1), 1.0)

    assert [type(m) for m in nn.MLP([3, 2], activation=None)] == [nn.Dense]
    assert [type(m) for m in nn.MLP([3, 4, 2], "sigmoid", "relu")] == [
        nn.Dense,
        nn.Sigmoid,
        nn.Dense,
        nn.ReLU,
    ]
    for bad in ("gelu", "ReLU"):
        with pytest.raises(ValueError, match="'relu', 'tanh', 'sigmoid', 'softmax', None"):
            nn.MLP([3, 2], activation=bad)
    with pytest.raises(ValueError, match="unknown activation 'linear'"):
        nn.MLP([3, 2], output_activation="linear")

    # relu layers get He (Var 2/fan_in = 0.002), the linear output layer Xavier (2/(500+500))
    big = nn.MLP([1000, 500, 500], activation="relu", rng=1)
    assert np.var(big[0].weight.data) == pytest.approx(2 / 1000, rel=0.03)
    assert np.var(big[2].weight.data) == pytest.approx(2 / 1000, rel=0.03)
    tanh = nn.MLP([1000, 500, 1], activation="tanh", rng=1)
    assert np.var(tanh[0].weight.data) == pytest.approx(2 / 1500, rel=0.03)
    # the same seed gives the same model, layers get different draws
    again = nn.MLP([1000, 500, 500], activation="relu", rng=1)
    assert np.array_equal(big[2].weight.data, again[2].weight.data)
    assert not np.array_equal(big[2].weight.data[:500], big[0].weight.data[:500])


# -- init --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f, var",
    [
        (nn.init.xavier_uniform, 2 / (400 + 600)),
        (nn.init.xavier_normal, 2 / (400 + 600)),
        (nn.init.he_uniform, 2 / 400),
        (nn.init.he_normal, 2 / 400),
    ],
)
def test_init_variance(f, var):
    w = f((400, 600), rng=0)
    assert w.shape == (400, 600) and w.dtype == np.float64
    # 240000 samples: the sample variance's relative standard error is below 0.3%
    assert np.var(w) == pytest.approx(var, rel=0.02)
    assert abs(np.mean(w)) < 5 * np.sqrt(var / w.size)
    if "uniform" in f.__name__:
        assert np.abs(w).max() <= np.sqrt(3 * var)
    # the shape of the distribution (the variance alone would not tell a normal from a uniform)
    bound = np.sqrt(3 * var)
    dist = stats.uniform(-bound, 2 * bound) if "uniform" in f.__name__ else stats.norm(0, var**0.5)
    assert stats.kstest(w.ravel()[:20_000], dist.cdf).pvalue > 1e-3
    assert np.array_equal(f((4, 5), rng=7), f((4, 5), rng=np.random.default_rng(7)))
    assert not np.array_equal(f((4, 5)), f((4, 5)))
    with pytest.raises(ValueError, match=r"with positive ints, got \(4, 5, 6\)"):
        f((4, 5, 6))
    with pytest.raises(ValueError, match=r"with positive ints, got \(0, 5\)"):
        f((0, 5))


# -- state dicts, save and load ------------------------------------------------------------------


def test_state_dict_is_a_copy_and_round_trips_through_an_exact_path(tmp_path):
    net = Net()
    state = net.state_dict()
    assert list(state) == [name for name, _ in net.named_parameters()]
    state["fc.weight"][...] = 0.0
    assert np.any(net.fc.weight.data != 0)  # a copy, not a view

    path = tmp_path / "weights.bin"
    net.save(path)
    assert os.listdir(tmp_path) == ["weights.bin"]  # no ".npz" appended
    assert zipfile.is_zipfile(path)

    loaded = nn.load(str(path))
    assert type(loaded) is dict and list(loaded) == list(net.state_dict())
    other = Net()
    for p in other.parameters():
        p.data = np.zeros_like(p.data)
    other.load_state_dict(loaded)
    x = np.random.default_rng(0).normal(size=(3, 3))
    np.testing.assert_array_equal(other(x).data, net(x).data)
    loaded["fc.bias"][...] = 42.0
    assert not np.any(other.fc.bias.data == 42.0)  # load_state_dict copies too


def test_load_state_dict_keeps_parameter_dtype():
    model = nn.Dense(2, 3).astype(np.float32)
    model.load_state_dict({"weight": np.ones((2, 3)), "bias": np.arange(3)})
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.data, [0, 1, 2])


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.pop("heads.b.weight"), r"missing key 'heads.b.weight'"),
        (lambda s: s.update(extra=np.ones(2)), r"unexpected key 'extra'"),
        (
            lambda s: s.update({"layers.2.weight": np.ones((2, 4))}),
            r"'layers.2.weight'.*\(4, 2\).*\(2, 4\)",
        ),
        (lambda s: s.update(scale=np.array(["a", "b"])), r"'scale'"),
    ],
)
def test_load_state_dict_mismatch_raises_and_changes_nothing(edit, message):
    net = Net()
    before = net.state_dict()
    state = {name: value + 1.0 for name, value in before.items()}  # valid new values...
    edit(state)  # ...except one key
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    after = net.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_load_refuses_truncated_and_non_npz_files(tmp_path):
    path = tmp_path / "model.npz"
    nn.Dense(3, 4, rng=0).save(path)
    data = path.read_bytes()
    for name, content in [
        ("truncated.npz", data[: len(data) // 2]),
        ("cut_end.npz", data[:-10]),
        ("text.npz", b"these are not the weights you are looking for\n"),
        ("empty.npz", b""),
    ]:
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=name):
            nn.load(bad)
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match="array.npy"):
        nn.load(npy)
    # not a message about pickles (np.load's guess for a file it does not recognise)
    with pytest.raises(ValueError, match=r"text.npz': not an .npz archive$"):
        nn.load(tmp_path / "text.npz")
    nn.Sequential().save(tmp_path / "none.npz")  # no parameters: an empty archive
    assert nn.load(tmp_path / "none.npz") == {}
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.npz")


def test_load_refuses_an_archive_member_that_is_not_an_array(tmp_path):
    path = tmp_path / "raw.npz"
    weight = io.BytesIO()
    np.save(weight, np.ones((3, 4)))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight.npy", weight.getvalue())
        z.writestr("bias", pickle.dumps([1.0, 2.0]))  # not .npy: np.load returns raw bytes
    with pytest.raises(ValueError, match=r"raw.npz': .*member 'bias' is not a NumPy array"):
        nn.load(path)


unpickled = []


def _record(tag):
    unpickled.append(tag)
    return tag


class Payload:
    def __reduce__(self):
        return (_record, ("code ran",))


def test_load_refuses_pickled_object_arrays(tmp_path):
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, weight=np.ones((2, 2)), bias=np.array([Payload()], dtype=object))
    assert pickle.loads(pickle.dumps(Payload())) == "code ran"  # the payload does run if unpickled
    unpickled.clear()
    with pytest.raises(ValueError, match="evil.npz"):
        nn.load(path)
    assert unpickled == []


# -- float32 and training ------------------------------------------------------------------------


def train_to_zero_output(model, dtype, steps=3):
    """Adam steps on mean(model(x)^2); returns the loss before each step."""
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    x = np.array([[1.0, 1.0], [0.5, -1.0], [-2.0, 0.3]], dtype=dtype)
    history = []
    for _ in range(steps):
        out = model(x)
        assert out.dtype == dtype
        loss = (out**2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def test_astype_float32_trains_end_to_end_in_float32():
    model = nn.MLP([2, 4, 1], activation="tanh", rng=0).astype(np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    twin = nn.MLP([2, 4, 1], activation="tanh", rng=0)  # float64, from the same float32 weights
    twin.load_state_dict({k: w.astype(np.float64) for k, w in model.state_dict().items()})
    history = train_to_zero_output(model, np.float32)
    assert history[-1] < history[0]
    # the float32 training follows the float64 one to float32 precision
    np.testing.assert_allclose(history, train_to_zero_output(twin, np.float64), rtol=1e-5)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-5, atol=1e-6)
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())


def test_xor_with_adam_and_binary_cross_entropy():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    model = nn.MLP([2, 8, 1], activation="tanh", output_activation="sigmoid", rng=0)
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        loss = losses.binary_cross_entropy(y, model(X))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    np.testing.assert_array_equal(model(X).data > 0.5, y > 0.5)


def softmax_cross_entropy(logits, labels):
    """-mean over the batch of log_softmax(logits)[label]."""
    onehot = np.eye(logits.shape[1])[labels]
    return -(logits.log_softmax(axis=1) * onehot).sum(axis=1).mean()


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return centers[labels] + 0.5 * rng.normal(size=(n, 2)), labels


def test_fit_returns_a_history_with_decreasing_loss():
    X, y = blobs(120, seed=0)
    X_val, y_val = blobs(60, seed=1)

    def run():
        model = nn.MLP([2, 8, 3], activation="relu", rng=0)
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return nn.fit(
            model, softmax_cross_entropy, opt, X, y, epochs=8, batch_size=16, rng=0,
            progress=False, X_val=X_val, y_val=y_val,
        )  # fmt: skip

    history = run()
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 8 for values in history.values())
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_loss"][-1] < 0.5 * history["val_loss"][0]
    assert history["accuracy"][-1] > 0.9 and history["val_accuracy"][-1] > 0.9
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"])
    assert run() == history  # the rng makes the shuffling reproducible


def test_fit_binary_accuracy_regression_and_progress_bar(capsys):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 4)
    y = np.array([[0.0], [1.0], [1.0], [1.0]] * 4)  # OR
    model = nn.MLP([2, 1], activation=None, output_activation="sigmoid", rng=0)
    history = nn.fit(model, bce, nn.optim.Adam(model.parameters(), lr=0.1), X, y, 20, 4, rng=0)
    assert set(history) == {"loss", "accuracy"} and history["accuracy"][-1] == 1.0
    assert history["loss"][-1] < history["loss"][0]
    assert "fit" in capsys.readouterr().err  # tqdm writes its bar to stderr

    targets = X @ np.array([[1.5], [-2.0]]) + 0.5  # regression: no accuracy is recorded
    reg = nn.Dense(2, 1, rng=0)
    mse = lambda out, t: ((out - t) ** 2).mean()
    history = nn.fit(reg, mse, nn.optim.SGD(reg.parameters(), lr=0.1), X, targets, 30, 4,
                     rng=0, progress=False)  # fmt: skip
    assert set(history) == {"loss"} and history["loss"][-1] < 0.01 * history["loss"][0]

    with pytest.raises(ValueError, match="samples"):
        nn.fit(reg, mse, nn.optim.SGD(reg.parameters(), lr=0.1), X, targets[:3], 1, 4)


def test_fit_stops_at_a_loss_that_is_not_finite_before_updating():
    """binary_cross_entropy takes the target first; fit passes the output first: with 0/1
    labels read as predictions the loss is inf, and fit must not train the model on it."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    model = nn.MLP([1, 1], output_activation="sigmoid", rng=0)
    before = model.state_dict()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"loss is inf in epoch 0.*binary_cross_entropy\(y, out\)"):
        nn.fit(model, losses.binary_cross_entropy, opt, X, y, 1, 4, progress=False)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    swapped = lambda out, t: losses.binary_cross_entropy(t, out)
    history = nn.fit(model, swapped, opt, X, y, 2, 4, progress=False)
    assert all(np.isfinite(history["loss"]))


def test_fit_threshold_for_logits_and_input_errors():
    X = np.array([[0.3], [0.4], [-0.3], [0.2]])
    y = np.array([[1.0], [1.0], [0.0], [1.0]])
    model = nn.Dense(1, 1)
    model.weight.data, model.bias.data = np.ones((1, 1)), np.zeros(1)  # logit = x
    opt = nn.optim.SGD(model.parameters(), lr=0.0)
    loss = lambda out, t: losses.binary_cross_entropy_with_logits(t, out)
    run = lambda **kw: nn.fit(model, loss, opt, X, y, 1, 4, progress=False, **kw)["accuracy"]
    assert run(threshold=0.0) == [1.0]  # logits: positive means class 1
    assert run() == [0.25]  # read as probabilities, only x = -0.3 -> 0 is right
    with pytest.raises(ValueError, match="both X_val and y_val"):
        run(X_val=X)
    with pytest.raises(ValueError, match="X holds no samples"):
        nn.fit(model, loss, opt, X[:0], y[:0], 1, 4, progress=False)


def test_fit_refuses_non_integer_sizes_and_stays_in_train_mode_when_validation_fails():
    X, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    model = nn.MLP([2, 2], rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    for kw in ({"epochs": 2.0, "batch_size": 2}, {"epochs": 1, "batch_size": None}):
        name = "epochs" if kw["epochs"] == 2.0 else "batch_size"
        with pytest.raises(TypeError, match=f"{name} must be an integer"):
            nn.fit(model, losses.softmax_cross_entropy, opt, X, y, progress=False, **kw)
    with pytest.raises(ValueError, match="class index 5"):
        nn.fit(model, losses.softmax_cross_entropy, opt, X, y, 1, 2, progress=False,
               X_val=X, y_val=y + 5)  # fmt: skip
    assert model.training and all(m.training for m in model.modules())


def test_fit_accepts_a_loss_of_size_one_of_any_shape():
    # backward() and float() take a (1,)-shaped loss; fit read it with float(ndarray) and raised
    # after the model had already been updated
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    reg = nn.Dense(1, 1, rng=0)
    loss_11 = lambda out, t: ((out - t) ** 2).mean(axis=0)  # shape (1,)
    history = nn.fit(reg, loss_11, nn.optim.SGD(reg.parameters(), lr=0.05), X, 2 * X, 20, 2,
                     rng=0, progress=False)  # fmt: skip
    assert history["loss"][-1] < 0.1 * history["loss"][0]


def test_save_and_load_parameters_named_like_np_savez_arguments(tmp_path):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.file = Value(np.array([1.0, 2.0]))
            self.allow_pickle = Value(np.array([[3.0]]))

    path = tmp_path / "odd.npz"
    Odd().save(path)
    state = nn.load(path)
    assert sorted(state) == ["allow_pickle", "file"]
    np.testing.assert_array_equal(state["file"], [1.0, 2.0])
    with np.load(path, allow_pickle=False) as npz:  # a plain .npz, as np.savez writes
        np.testing.assert_array_equal(npz["allow_pickle"], [[3.0]])


@pytest.mark.parametrize("dtype", [np.int64, bool], ids=str)
def test_astype_to_a_dtype_that_is_not_floating_point_is_refused(dtype):
    model = nn.MLP([2, 3], rng=0)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(TypeError, match=f"dtype={np.dtype(dtype)}"):
        model.astype(dtype)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
