"""Model files: data only, round trip, every kind of damage or forgery is a clear ModelError, atomic saves."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import arabictopics
from arabictopics import ArabicPreprocessor, ModelError, load_model, persistence, read_model_metadata, save_model

from .conftest import model_members, write_model_members


@pytest.fixture()
def saved(small_model, tmp_path):
    path = tmp_path / "m.atm"
    save_model(small_model, path, metadata={"note": "test"})
    return path


def _tree(members):
    return json.loads(members["model.json"])


def _with_tree(members, tree):
    return {**members, "model.json": json.dumps(tree)}


def _nodes(node, path=()):
    """Every (path, node) of a model.json tree."""
    yield path, node
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _nodes(child, (*path, key))


def _find(tree, predicate):
    return next(node for _, node in _nodes(tree) if isinstance(node, dict) and predicate(node))


def _estimator(tree, name):
    return _find(tree, lambda n: n.get("t") == "estimator" and n.get("class") == name and n.get("fitted"))


PROBES = ["ضبط شحنة كبتاغون في المنفذ الحدودي", "اعتراض طائرة مسيرة. وناقش الوزراء الإرهاب.", ""]


def test_round_trip(saved, small_model, records):
    model = load_model(saved)
    texts = [r["text"] for r in records[:30]] + PROBES
    assert np.array_equal(model.predict_proba(texts), small_model.predict_proba(texts))
    for ours, theirs in zip(model.predict_levels(texts), small_model.predict_levels(texts)):
        assert np.array_equal(ours, theirs)
    meta = read_model_metadata(saved)
    assert meta["labels"] == list(small_model.classes_) and meta["note"] == "test" and meta["format"] == 2
    for key in ("library_version", "sklearn_version", "numpy_version", "payload_sha256", "created"):
        assert key in meta
    assert load_model(saved).get_params()["classifier__C"] == small_model.get_params()["classifier__C"]


def test_a_model_file_holds_json_and_numeric_arrays_only(saved):
    members = model_members(saved)
    assert set(members) == {"metadata.json", "model.json"} | {n for n in members if n.startswith("arrays/")}
    for name, data in members.items():
        if name.startswith("arrays/"):
            array = np.load(io.BytesIO(data), allow_pickle=False)  # would raise on an object array
            assert array.dtype.kind in "biuf"
    tree = _tree(members)
    tags = {node["t"] for _, node in _nodes(tree) if isinstance(node, dict) and "t" in node}
    assert "pickle" not in tags and "estimator" in tags and "index" in tags  # the vocabulary as a term list
    vectorizer = _estimator(tree, "ArabicTfidfVectorizer")
    assert vectorizer["params"]["analyzer"] == {"t": "function", "v": "arabictopics.text.analyze"}


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nope.atm")


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated|damaged|not an arabictopics"):
        load_model(saved)


def test_flipped_byte_in_an_array_fails_the_checksum(saved):
    members = model_members(saved)
    name = max((n for n in members if n.startswith("arrays/")), key=lambda n: len(members[n]))
    data = bytearray(members[name])
    data[len(data) // 2] ^= 0xFF
    write_model_members(saved, {**members, name: bytes(data)}, resign=False)
    with pytest.raises(ModelError, match="checksum"):
        load_model(saved)


def test_a_renamed_member_fails_the_checksum(saved):
    members = model_members(saved)
    arrays = sorted(n for n in members if n.startswith("arrays/"))
    first, second = arrays[0], arrays[1]
    swapped = {**members, first: members[second], second: members[first]}
    write_model_members(saved, swapped, resign=False)
    with pytest.raises(ModelError, match="checksum"):
        load_model(saved)


def test_flipped_byte_anywhere_in_file(saved):
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelError):
        load_model(saved)


def test_plain_joblib_file_refused(small_model, tmp_path):
    path = tmp_path / "plain.joblib"
    joblib.dump(small_model, path)
    with pytest.raises(ModelError, match="not an arabictopics model file"):
        load_model(path)


def _format_1(path, model, sklearn_version=None):
    """A model file as arabictopics < 0.3 wrote it: metadata and a joblib pickle."""
    import sklearn

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    payload = buffer.getvalue()
    meta = {
        "format": 1,
        "library": "arabictopics",
        "library_version": "0.2.0",
        "sklearn_version": sklearn_version or sklearn.__version__,
        "labels": [str(c) for c in model.classes_],
        "thresholds": [round(float(t), 6) for t in model.thresholds_],
        "training_data": {"articles": 7},
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    write_model_members(path, {"metadata.json": json.dumps(meta), "model.joblib": payload}, resign=False)


def test_a_format_1_pickle_is_refused_with_how_to_convert_it(small_model, tmp_path, monkeypatch):
    old = tmp_path / "old.atm"
    _format_1(old, small_model)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(ModelError, match=r"format-1 .*arabictopics convert .*old\.atm NEW\.atm --trust-pickle"):
        load_model(old)
    with pytest.raises(ModelError, match="trust_pickle=True"):
        persistence.convert_model(old, tmp_path / "new.atm")
    assert not (tmp_path / "new.atm").exists()


def test_convert_rewrites_a_trusted_format_1_file_as_data(small_model, tmp_path):
    old, new = tmp_path / "old.atm", tmp_path / "new.atm"
    _format_1(old, small_model)
    meta = persistence.convert_model(old, new, trust_pickle=True)
    assert meta["format"] == 2 and meta["training_data"] == {"articles": 7}
    assert meta["converted_from"]["format"] == 1
    assert set(model_members(new)) - {"metadata.json", "model.json"} == {
        n for n in model_members(new) if n.startswith("arrays/")
    }
    assert np.array_equal(load_model(new).predict_proba(PROBES), small_model.predict_proba(PROBES))
    with pytest.raises(ModelError, match="not 1: nothing to convert"):
        persistence.convert_model(new, tmp_path / "again.atm", trust_pickle=True)


def test_convert_checks_the_scikit_learn_version_and_the_checksum(small_model, tmp_path):
    old = tmp_path / "old.atm"
    _format_1(old, small_model, sklearn_version="0.24.2")
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        persistence.convert_model(old, tmp_path / "new.atm", trust_pickle=True)
    _format_1(old, small_model)
    members = model_members(old)
    write_model_members(old, {**members, "model.joblib": members["model.joblib"][:-9] + b"x" * 9}, resign=False)
    with pytest.raises(ModelError, match="checksum"):
        persistence.convert_model(old, tmp_path / "new.atm", trust_pickle=True)
    assert not (tmp_path / "new.atm").exists()


def test_checksum_checked_before_anything_is_built(saved, monkeypatch):
    members = model_members(saved)
    write_model_members(saved, {**members, "model.json": b'{"root": null}'}, resign=False)
    monkeypatch.setattr(persistence._Reader, "decode", lambda *a, **k: pytest.fail("decoded before checking"))
    with pytest.raises(ModelError, match="checksum"):
        load_model(saved)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.pop("payload_sha256"), "lacks payload_sha256"),
        (lambda m: m.update(format=99), "newer than"),
        (lambda m: m.update(format=0), "invalid format"),
        (lambda m: m.update(format=True), "invalid format"),
        (lambda m: m.update(library="other"), "no arabictopics metadata"),
        (lambda m: m.update(labels=["a", "b"]), "does not match"),
        (lambda m: m.update(payload_bytes=100), "more than its metadata says"),
    ],
    ids=["no checksum", "newer format", "format 0", "format true", "foreign", "labels mismatch", "small size"],
)
def test_metadata_problems(saved, change, message):
    members = model_members(saved)
    meta = json.loads(members["metadata.json"])
    change(meta)
    write_model_members(saved, {**members, "metadata.json": json.dumps(meta)}, resign=False)
    with pytest.raises(ModelError, match=message):
        load_model(saved)


def test_the_scikit_learn_version_of_a_data_file_does_not_matter(saved, small_model):
    members = model_members(saved)
    meta = json.loads(members["metadata.json"])
    meta["sklearn_version"] = "0.24.2"
    write_model_members(saved, {**members, "metadata.json": json.dumps(meta)}, resign=False)
    assert np.array_equal(load_model(saved).predict_proba(PROBES), small_model.predict_proba(PROBES))


def test_metadata_not_json(saved):
    members = model_members(saved)
    write_model_members(saved, {**members, "metadata.json": "{not json"}, resign=False)
    with pytest.raises(ModelError, match="unreadable"):
        load_model(saved)


def _forge(saved, edit):
    """Apply ``edit`` to the model.json tree and re-sign the file, as a forger would."""
    members = model_members(saved)
    tree = _tree(members)
    edit(tree, members)
    write_model_members(saved, _with_tree(members, tree))


def _set_class(tree, members):
    _estimator(tree, "ThemeClassifier")["class"] = "sklearn.linear_model.LogisticRegression"


def _set_function(tree, members):
    _estimator(tree, "ArabicTfidfVectorizer")["params"]["analyzer"] = {"t": "function", "v": "os.system"}


def _object_array(tree, members):
    node = _estimator(tree, "ArabicTfidfVectorizer")["fitted"]["idf_"]
    node["dtype"] = "|O"


def _wrong_shape(tree, members):
    node = _estimator(tree, "ThemeClassifier")["fitted"]["coef_"]
    node["shape"] = [node["shape"][0], node["shape"][1] * 1000]


def _short_idf(tree, members):
    node = _estimator(tree, "ArabicTfidfVectorizer")["fitted"]["idf_"]
    buffer = io.BytesIO()
    np.save(buffer, np.ones(3))
    members[node["member"]] = buffer.getvalue()
    node["shape"] = [3]


def _unknown_tag(tree, members):
    _estimator(tree, "PassageLayer")["params"]["window"] = {"t": "eval", "v": "__import__('os')"}


def _negative_window(tree, members):
    _estimator(tree, "PassageLayer")["params"]["window"] = -(10**9)


def _unknown_attribute(tree, members):
    _estimator(tree, "TopicModel")["fitted"]["classify_many"] = 3


def _dangling_member(tree, members):
    _estimator(tree, "ThemeClassifier")["fitted"]["coef_"]["member"] = "../../etc/passwd"


def _unfitted_root(tree, members):
    _estimator(tree, "TopicModel")["fitted"] = {}


def _unfitted_step(tree, members):
    _estimator(tree, "PassageLayer")["fitted"] = {}


def _deep(tree, members):
    node = 0
    for _ in range(500):
        node = [node]
    _estimator(tree, "PassageLayer")["params"]["threshold_range"] = node


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set_class, "names the class 'sklearn.linear_model.LogisticRegression', which is not an arabictopics"),
        (_set_function, "names the function 'os.system'"),
        (_object_array, "arrays must be booleans, integers or floats"),
        (_wrong_shape, "does not hold the <f8 array of shape"),
        (_short_idf, r"idf_ has shape \(3,\)"),
        (_unknown_tag, "unknown tag 'eval'"),
        (_negative_window, r"window must be an int in \[1, 1000\]"),
        (_unknown_attribute, "has no parameter or fitted attribute classify_many"),
        (_dangling_member, "not an array member of the file"),
        (_deep, "nested more than 64 levels deep"),
        (_unfitted_root, "a TopicModel that was never fitted"),
        (_unfitted_step, r"model\.passages_ is a PassageLayer that was never fitted"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_a_forged_tree_is_refused_with_what_is_wrong(saved, edit, message):
    _forge(saved, edit)
    with pytest.raises(ModelError, match=message):
        load_model(saved)


def test_a_member_a_model_file_does_not_have_is_refused(saved):
    members = model_members(saved)
    write_model_members(saved, {**members, "payload.py": b"print('hello')"})
    with pytest.raises(ModelError, match=r"members a model file does not have \(payload\.py\)"):
        load_model(saved)


class _WritesMarker:
    """Unpickling this object creates a file: a visible side effect."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_planted_pickle_is_never_executed(saved, tmp_path):
    marker = tmp_path / "marker"
    payload = pickle.dumps(_WritesMarker(marker))
    members = model_members(saved)
    tree = _tree(members)
    # 1. as a pickle node of model.json (what allow_pickle=True writes), without allow_pickle
    planted = copy.deepcopy(tree)
    _estimator(planted, "ThemeClassifier")["fitted"]["coef_"] = {
        "t": "pickle",
        "member": "pickled/99.pkl",
        "class": "builtins.dict",
    }
    write_model_members(saved, {**_with_tree(members, planted), "pickled/99.pkl": payload})
    with pytest.raises(ModelError, match=r"holds pickled components \(builtins\.dict\).*allow_pickle=True"):
        load_model(saved)
    # 2. as an array member whose .npy header declares an object array
    node = _estimator(tree, "ArabicTfidfVectorizer")["fitted"]["idf_"]
    buffer = io.BytesIO()
    np.save(buffer, np.array([_WritesMarker(marker)], dtype=object), allow_pickle=True)
    write_model_members(saved, {**members, node["member"]: buffer.getvalue()})
    with pytest.raises(ModelError, match="does not hold the <f8 array"):
        load_model(saved)
    # 3. the same array declared as an object array in model.json too
    node["dtype"], node["shape"] = "|O", [1]
    write_model_members(saved, {**_with_tree(members, tree), node["member"]: buffer.getvalue()})
    with pytest.raises(ModelError, match="arrays must be booleans, integers or floats"):
        load_model(saved)
    # 4. in place of model.json itself
    write_model_members(saved, {**members, "model.json": payload})
    with pytest.raises(ModelError, match="model.json is not JSON"):
        load_model(saved)
    assert not marker.exists()


class _Shouting(ArabicPreprocessor):
    """A component of the user's own: a subclass is not one of arabictopics's estimators."""


def test_a_component_of_the_users_own_needs_allow_pickle_on_both_sides(small_model, tmp_path):
    custom = copy.copy(small_model)
    custom.preprocessor_ = _Shouting(max_chars=small_model.max_chars)
    path = tmp_path / "custom.atm"
    with pytest.raises(ModelError, match=r"model\.preprocessor_ is a tests\.test_persistence\._Shouting.*allow_pickle"):
        save_model(custom, path)
    assert not path.exists()
    meta = save_model(custom, path, allow_pickle=True)
    assert meta["pickled_components"] == ["model.preprocessor_: tests.test_persistence._Shouting"]
    with pytest.raises(ModelError, match=r"holds pickled components.*allow_pickle=True\) only if you trust"):
        load_model(path)
    loaded = load_model(path, allow_pickle=True)
    assert type(loaded.preprocessor_) is _Shouting
    assert np.array_equal(loaded.predict_proba(PROBES), small_model.predict_proba(PROBES))


def test_only_a_topic_model_is_saved(small_model, tmp_path):
    with pytest.raises(ModelError, match="saves a TopicModel, got ThemeClassifier"):
        save_model(small_model.classifier_, tmp_path / "c.atm")


def test_interrupted_save_keeps_old_model(saved, small_model, monkeypatch):
    before = saved.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(persistence.os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        save_model(small_model, saved)
    assert saved.read_bytes() == before
    assert load_model(saved) is not None
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no temp file left


def test_default_model_loads_and_is_cached(default_model):
    assert arabictopics.load_model() is default_model
    assert list(default_model.classes_) == [t.label for t in arabictopics.load_taxonomy()]
    assert read_model_metadata()["format"] == 2


def test_default_model_pinned(monkeypatch):
    monkeypatch.setattr(persistence, "_default_cache", {})
    monkeypatch.setattr(persistence, "DEFAULT_MODEL_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="checksum"):
        load_model()


def test_default_model_loaded_once_from_many_threads(monkeypatch):
    # Eight threads asking for the shipped model at once get one model, loaded once (the cache is locked).
    import threading
    import time

    monkeypatch.setattr(persistence, "_default_cache", {})
    real_load = persistence._load
    loads = []

    def slow_load(*args, **kwargs):
        loads.append(1)
        time.sleep(0.2)  # a wide window for the other threads to arrive
        return real_load(*args, **kwargs)

    monkeypatch.setattr(persistence, "_load", slow_load)
    barrier = threading.Barrier(8)
    got = []

    def ask():
        barrier.wait()
        got.append(load_model())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len({id(m) for m in got}) == 1


def test_save_through_a_symlink_keeps_the_link_and_the_mode(small_model, tmp_path):
    import stat

    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.atm"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "m.atm"
    link.symlink_to(target)
    save_model(small_model, link, companions={tmp_path / "m.atm.report.json": "{}"})
    assert link.is_symlink() and load_model(link) is not None
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["m.atm"]


def test_a_model_file_without_the_passage_layer_is_refused(saved):
    def drop(tree, members):
        del _estimator(tree, "TopicModel")["fitted"]["passages_"]

    _forge(saved, drop)
    with pytest.raises(ModelError, match="a fitted TopicModel has passages_"):
        load_model(saved)


def test_zip_member_sizes_are_checked_before_reading(saved, monkeypatch):
    members = model_members(saved)
    meta = json.loads(members["metadata.json"])
    big = np.zeros(64 << 10)  # 512 KiB of zeros compress to almost nothing
    buffer = io.BytesIO()
    np.save(buffer, big)
    name = "arrays/999.npy"
    write_model_members(saved, {**members, name: buffer.getvalue()}, resign=False)
    meta_after = json.loads(model_members(saved)["metadata.json"])
    assert meta_after["payload_bytes"] == meta["payload_bytes"]
    read = []
    real = persistence._read_member
    monkeypatch.setattr(persistence, "_read_member", lambda zf, n, *a: read.append(n) or real(zf, n, *a))
    with pytest.raises(ModelError, match="more than its metadata says"):
        load_model(saved)
    assert read == ["metadata.json"]  # refused from the central directory's sizes alone
    with zipfile.ZipFile(saved) as zf:
        assert zf.getinfo(name).compress_size < 4096


# ---- the tree: any value a model holds comes back equal --------------------------------------------------

_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    _ARRAYS,
    st.lists(st.text(max_size=4), max_size=4).map(lambda items: np.array(items, dtype=object)),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=4), inner, max_size=3),
        st.dictionaries(st.tuples(st.integers(0, 9), st.integers(0, 9)), inner, max_size=3),
    ),
    max_leaves=12,
)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        if not (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape):
            return False
        # numbers and fixed-width strings byte for byte (NaN, -0.0 and all); Python objects by value
        return np.array_equal(a, b) if a.dtype.kind == "O" else a.tobytes() == b.tobytes()
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(_VALUES)
def test_any_value_round_trips_through_the_tree(value):
    from pathlib import Path

    writer = persistence._Writer(allow_pickle=False)
    tree = json.loads(json.dumps(writer.encode(value, "value")))  # through JSON text, as in a file
    assert _same(value, persistence._Reader(Path("m.atm"), writer.members, False).decode(tree, "value"))
