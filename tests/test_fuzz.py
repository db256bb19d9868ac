"""Fuzzing: the text functions, the loaders, classify and model files on arbitrary input.

Example counts come from the Hypothesis profile (tests/conftest.py): "ci" by
default, "long" (20,000 examples per property) with
``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py`` or
``python benchmarks/fuzz.py``.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import pickle
import re
import sys
import types
import zipfile
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arabictopics import DataError, InputError, ModelError, load_labeled, load_model, read_model_metadata, save_model
from arabictopics.charsets import FOLD_MAP
from arabictopics.io import iter_documents, resolve_documents
from arabictopics.text import (
    analyze,
    clean,
    light_stem,
    normalize,
    split_sentences,
    strip_boilerplate,
    strip_html,
    strip_links,
    tokenize,
)

from .conftest import model_members, write_model_members

fuzz_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# ---- strategies -------------------------------------------------------------

INVISIBLE = list("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
CONTROLS = st.one_of(
    st.characters(max_codepoint=0x1F),  # NUL, tab, newlines, ESC, ...
    st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
    st.sampled_from([*INVISIBLE, "\u2028", "\u2029", "\x85", "\u0640"]),
)
CHARS = st.one_of(
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),  # Arabic
    st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF),  # presentation forms
    st.sampled_from(sorted(FOLD_MAP)),
    CONTROLS,
    st.characters(codec="utf-8"),  # any code point but surrogates
)
FRAGMENTS = st.sampled_from(
    [
        "<p>", "</p>", "<br/>", "<script>", "</script>", "<style>", "</style>", "<!--", "-->", "<a href='x'>",
        "&amp;", "&nbsp;", "&#1575;", "&#x627;", "&#0;", "&#99999999;", "https://moi.gov.ae/x?y=1", "www.", "@",
        "#", "info@moi.gov.ae", "اقرأ أيضا:", "إقرأ أيضاً", "المصدر:", "كلمات دلالية:", "شارك", "\n", "\r\n",
        " ", ".", "؟", "ال", "وال", "ات", "ة", "ﻻ", "٢٠٢٤", "12.5", "\x00",
    ]
)  # fmt: skip
TEXTS = st.lists(st.one_of(st.text(CHARS, max_size=20), FRAGMENTS), max_size=30).map("".join)


# ---- text functions ---------------------------------------------------------


@fuzz_settings
@given(TEXTS)
def test_normalize_idempotent(text):
    once = normalize(text)
    assert isinstance(once, str)
    assert normalize(once) == once
    assert not set(once) & set(FOLD_MAP)


@fuzz_settings
@given(TEXTS)
def test_text_functions_never_raise(text):
    for function in (strip_html, strip_boilerplate, normalize, strip_links, clean):
        assert isinstance(function(text), str), function.__name__
    sentences = split_sentences(text)
    assert all(s and s == s.strip() for s in sentences)
    for tokens in (tokenize(text), tokenize(normalize(text)), analyze(clean(text)), analyze(text)):
        assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in tokens)
    assert all(light_stem(t) for t in tokenize(normalize(text)))


# ---- dataset.load_labeled -----------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(CHARS, max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=4), st.integers(0, 5), JSON_VALUES),
        "text": st.one_of(TEXTS, JSON_VALUES),
        "labels": st.one_of(
            st.lists(st.sampled_from(["drugs", "drones", "x", ""]), max_size=3),
            st.sampled_from(["drugs|drones", "", "a; b", "drugs, drones"]),
            JSON_VALUES,
        ),
        "genre": JSON_VALUES,
    },
)
PATHOLOGICAL_LINES = st.sampled_from(
    [
        "[" * 100_000 + "]" * 100_000,  # nesting beyond the recursion limit
        '{"text": "x", "labels": [], "id": 1' + "0" * 5000 + "}",  # int too long to convert
        '{"text": "\\ud800", "labels": []}',  # unpaired surrogate escapes
        '{"text": "a", "labels": ["\\udfff"]}',
        '{"text": "\\ud83d\\ude00", "labels": []}',  # a valid pair
        '{"text": "a", "labels": [], "id": NaN}',
        '{"text": "a", "labels": [], "text": 5}',
        "\ufeff" + '{"text": "a", "labels": []}',
        "NaN",
        "\u2028",
        "\x00",
    ]
)
LINES = st.one_of(
    RECORDS.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8")),
    RECORDS.map(lambda r: json.dumps(r).encode("ascii")),
    JSON_VALUES.map(lambda v: json.dumps(v).encode("ascii")),
    st.text(CHARS, max_size=30).map(lambda s: s.encode("utf-8")),
    PATHOLOGICAL_LINES.map(lambda s: s.encode("utf-8")),
    st.binary(max_size=20),
)


def _split_lines(raw: bytes) -> list[bytes]:
    return [line.removesuffix(b"\r") for line in raw.split(b"\n")]


@fuzz_settings
@given(st.lists(LINES, max_size=12), st.sampled_from([b"\n", b"\r\n"]), st.booleans(), st.booleans())
def test_load_labeled_loads_or_names_file_and_line(tmp_path, lines, newline, bom, known):
    path = tmp_path / "data.jsonl"
    raw = (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines)
    path.write_bytes(raw)
    n_lines = raw.count(b"\n") + 1
    try:
        data = load_labeled(path, known_labels=["drugs", "drones"] if known else None)
    except DataError as exc:
        message = str(exc)
        located = re.compile(rf"^{re.escape(str(path))}:(\d+): ")
        if message.startswith(f"{path}: no articles"):
            return
        first, *rest = message.split("\n")
        if not rest:  # one whole-file problem, e.g. not UTF-8 at a line
            match = located.match(first)
            assert match and 1 <= int(match.group(1)) <= n_lines, message
            return
        assert re.fullmatch(r"\d+ problem\(s\) in the labeled data:", first), message
        for line in rest:
            if line.startswith("  ... and "):
                continue
            match = located.match(line.removeprefix("  "))
            assert match and 1 <= int(match.group(1)) <= n_lines, line
        return
    # loaded: every article is the record at the line it names
    assert len(data) == len(data.labels) == len(data.ids) == len(data.origins) >= 1
    physical = _split_lines(raw.removeprefix(b"\xef\xbb\xbf"))
    for origin, text, labels in zip(data.origins, data.texts, data.labels):
        lineno = int(origin.rsplit(":", 1)[1])
        assert json.loads(physical[lineno - 1])["text"] == text
        assert text.strip() and labels == sorted(set(labels))
        if known:
            assert set(labels) <= {"drugs", "drones"}


# ---- io.iter_documents ----------------------------------------------------------

BYTE_PIECES = st.one_of(
    st.binary(max_size=30),
    st.text(CHARS, max_size=20).map(lambda s: s.encode("utf-8")),
    st.sampled_from(
        [
            b'{"text": "\xd9\x86\xd8\xb5"}', b'{"id": 1, "text": 2}', b'{"id": "\\udcff", "text": "\\ud800"}',
            b'"', b",", b"\t", b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b"text", b"id",
            b"[" * 3000, b"1" * 5000, b"\xd9",
        ]
    ),
)  # fmt: skip
INPUTS = st.lists(BYTE_PIECES, max_size=40).map(b"".join)
HEADERS = st.sampled_from([b"", b"id,text\n", b"text\r\n", b"\xef\xbb\xbfid\ttext\n", b"id,text,text\n"])


def _check_documents(docs, raw: bytes) -> None:
    assert len(docs) <= raw.count(b"\n") + raw.count(b"\r") + 1  # never more records than lines
    for doc in docs:
        assert isinstance(doc.id, str) and doc.id  # never an empty id
        doc.id.encode("utf-8")  # always writable as UTF-8
        assert (doc.text is None) != (doc.error is None)
        if doc.text is not None:
            doc.text.encode("utf-8")  # no unpaired surrogate reaches the model
        else:
            assert isinstance(doc.error, str) and doc.error


@fuzz_settings
@given(
    INPUTS,
    HEADERS,
    st.sampled_from([".jsonl", ".csv", ".tsv", ".txt", ".html"]),
    st.sampled_from(["strict", "replace", "ignore"]),
)
def test_iter_documents_never_raises(tmp_path, body, header, suffix, errors):
    raw = (header if suffix in (".csv", ".tsv") else b"") + body
    path = tmp_path / f"input{suffix}"
    path.write_bytes(raw)
    try:
        docs = list(itertools.islice(iter_documents([str(path)], errors=errors), 10_000))
    except InputError as exc:  # the usage errors: a CSV without the text column, or an unbalanced quote
        assert suffix in (".csv", ".tsv") and ("--text-column" in str(exc) or "--quoting none" in str(exc))
        return
    _check_documents(docs, raw)
    # Deferred reading, as the CLI's workers get it (pickled), gives the same documents.
    deferred = list(itertools.islice(iter_documents([str(path)], errors=errors, defer=True), 20_000))
    assert resolve_documents(pickle.loads(pickle.dumps(deferred))) == docs
    if suffix in (".txt", ".html"):
        assert len(docs) == 1
    if suffix == ".jsonl":
        physical = _split_lines(raw)
        for doc in docs:
            if doc.text is not None and errors == "strict":
                lineno = int(doc.source.rsplit(":", 1)[1])
                assert json.loads(physical[lineno - 1].removeprefix(b"\xef\xbb\xbf"))["text"] == doc.text


@fuzz_settings
@given(INPUTS, st.sampled_from(["text", "jsonl", "csv"]), st.sampled_from(["strict", "replace"]))
def test_stdin_never_raises(body, input_format, errors):
    stdin = types.SimpleNamespace(buffer=io.BytesIO(body))
    with mock.patch.object(sys, "stdin", stdin):
        try:
            docs = list(itertools.islice(iter_documents(["-"], input_format=input_format, errors=errors), 10_000))
        except InputError as exc:
            assert input_format == "csv" and ("--text-column" in str(exc) or "--quoting none" in str(exc))
            return
    _check_documents(docs, body)


# ---- classify ---------------------------------------------------------------------


@fuzz_settings
@given(st.lists(TEXTS, min_size=1, max_size=4))
def test_classify_any_text(default_model, texts):
    classes = [str(c) for c in default_model.classes_]
    thresholds = dict(zip(classes, default_model.thresholds_))
    results = default_model.classify_many(texts)
    assert len(results) == len(texts)
    for result in results:
        assert set(result.labels) <= set(classes)
        assert list(result.scores) == classes
        assert all(0.0 <= s <= 1.0 for s in result.scores.values())
        assert all(result.scores[label] >= round(thresholds[label], 6) - 1e-6 for label in result.labels)
        ranked = [result.scores[label] for label in result.labels]
        assert ranked == sorted(ranked, reverse=True)
        assert not result.truncated
    assert default_model.classify(texts[0]) == results[0]


# ---- model files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_file(small_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz_model") / "m.atm"
    save_model(small_model, path)
    return path


PROBE_TEXTS = ["ضبط شحنة كبتاغون في المنفذ الحدودي", "اعتراض طائرة مسيرة", "مباراة كرة القدم"]


@fuzz_settings
@given(st.data())
def test_damaged_model_file_is_a_model_error(small_model, model_file, tmp_path, data):
    raw = bytearray(model_file.read_bytes())
    size = len(raw)
    # zip headers and the central directory are at the ends; the payload in between
    positions = st.one_of(st.integers(0, 700), st.integers(size - 400, size - 1), st.integers(0, size - 1))
    for _ in range(data.draw(st.integers(1, 3), label="flips")):
        raw[data.draw(positions, label="position")] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, size - 1), label="length")]
    damaged = tmp_path / "damaged.atm"
    damaged.write_bytes(bytes(raw))
    try:
        model = load_model(damaged)
    except ModelError:
        return
    # the flip hit a field that does not matter (a zip timestamp, ...): the model is intact
    assert np.array_equal(model.predict_proba(PROBE_TEXTS), small_model.predict_proba(PROBE_TEXTS))


METADATA_KEYS = ["format", "library", "library_version", "labels", "thresholds", "payload_sha256", "payload_bytes"]


@fuzz_settings
@given(
    st.dictionaries(
        st.sampled_from(METADATA_KEYS),
        st.one_of(JSON_VALUES, st.just(None), st.text("0123456789.", max_size=6000)),
        max_size=4,
    ),
    st.sets(st.sampled_from(METADATA_KEYS), max_size=2),
)
def test_any_metadata_is_a_model_error_or_loads(model_file, tmp_path, changes, removed):
    members = model_members(model_file)
    meta = json.loads(members["metadata.json"])
    meta.update(changes)
    for key in removed:
        meta.pop(key, None)
    path = tmp_path / "meta.atm"
    write_model_members(path, {**members, "metadata.json": json.dumps(meta)}, resign=False)
    try:
        model = load_model(path)
    except ModelError:
        return
    assert list(model.classes_) == meta["labels"]


@fuzz_settings
@given(
    st.sampled_from(["metadata.json", "model.json", "arrays/0.npy", "last"]),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["local", "central", "both"]),
    st.one_of(JSON_VALUES, st.just(None)),
)
def test_declared_sizes_and_metadata_shapes_only_give_model_errors(model_file, tmp_path, member, size, where, top):
    # A member whose ZIP headers declare any size (up to 4 GiB), or metadata that is any JSON value: loading
    # either works or raises ModelError, and never reads more than its bounds.
    import struct

    raw = bytearray(model_file.read_bytes())
    with zipfile.ZipFile(model_file) as zf:
        info = zf.infolist()[-1] if member == "last" else zf.getinfo(member)
    name = info.filename.encode()
    if where in ("local", "both"):  # local header: uncompressed size at offset 22
        raw[info.header_offset + 22 : info.header_offset + 26] = struct.pack("<I", size)
    if where in ("central", "both"):  # central directory entry: uncompressed size at offset 24
        entry = raw.rfind(b"PK\x01\x02", 0, raw.rfind(name) + 1)
        raw[entry + 24 : entry + 28] = struct.pack("<I", size)
    path = tmp_path / "sizes.atm"
    path.write_bytes(bytes(raw))
    for fn in (read_model_metadata, load_model):
        try:
            fn(path)
        except ModelError:
            pass
    odd = tmp_path / "odd.atm"
    write_model_members(odd, {"metadata.json": json.dumps(top), "model.json": b"{}"}, resign=False)
    with pytest.raises(ModelError):
        load_model(odd)


# A forger who rewrites model.json, the arrays and the metadata's checksum (a file that passes the checksum):
# whatever the change, loading gives a ModelError or a model that scores the probes without error.
TREE_VALUES = st.one_of(
    JSON_VALUES,
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            {"t": "array", "member": "arrays/0.npy", "dtype": "<f8", "shape": [3]},
            {"t": "array", "member": "arrays/0.npy", "dtype": "<f8", "shape": [2**39, 2**39]},
            {"t": "estimator", "class": "TopicModel", "params": {}, "fitted": {}},
            {"t": "estimator", "class": "PassageLayer", "params": {"window": 0}, "fitted": {}},
            {"t": "function", "v": "arabictopics.text.strip_html"},
            {"t": "index", "v": ["a", "a"]},
            {"t": "items", "v": [[[1], 2]]},
            {"t": "scalar", "dtype": "<i1", "v": 1000},
            {"t": "dtype", "v": "object"},
            {"t": "float", "v": "1e999"},
            {"t": "strings", "v": [1]},
            {"t": "tuple", "v": []},
            {"t": "pickle", "member": "pickled/0.pkl", "class": "x"},
        ]
    ),
)


def _tree_paths(node, path=()):
    """Paths into the tree; of a long list (a vocabulary) only its first items."""
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node[:3]) if isinstance(node, list) else ()
    for key, child in children:
        yield from _tree_paths(child, (*path, key))


def _mutate_tree(tree, data):
    paths = list(_tree_paths(tree))
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        if len(paths) < 2:
            break
        path = data.draw(st.sampled_from(paths[1:]), label="path")
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "nudge"]), label="action")
        value = parent[path[-1]]
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "nudge" and isinstance(value, int) and not isinstance(value, bool):
            parent[path[-1]] = value + data.draw(st.sampled_from([-1, 1, -(2**31), 2**40]), label="by")
        elif action == "nudge" and isinstance(value, list) and value:
            value.pop(data.draw(st.integers(0, len(value) - 1), label="index"))
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(TREE_VALUES, label="value"))  # later changes stay local
        paths = list(_tree_paths(tree))


def _mutate_array(members, data):
    names = sorted(n for n in members if n.startswith("arrays/"))
    name = data.draw(st.sampled_from(names), label="array")
    raw = bytearray(members[name])
    kind = data.draw(st.sampled_from(["flip", "truncate", "header", "drop", "object"]), label="array change")
    if kind == "flip" and raw:
        raw[data.draw(st.integers(0, len(raw) - 1), label="byte")] ^= 1 << data.draw(st.integers(0, 7))
        members[name] = bytes(raw)
    elif kind == "truncate":
        members[name] = bytes(raw[: data.draw(st.integers(0, len(raw)), label="length")])
    elif kind == "header":  # a header declaring another shape
        shape = data.draw(st.lists(st.integers(0, 2**40), max_size=3), label="shape")
        header = {"descr": "<f8", "fortran_order": False, "shape": tuple(shape)}
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(buffer, header)
        members[name] = buffer.getvalue() + bytes(raw[128:])
    elif kind == "drop":
        del members[name]
    else:
        buffer = io.BytesIO()
        np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        members[name] = buffer.getvalue()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_a_forged_model_file_gives_a_model_error_or_a_model_that_scores(model_file, tmp_path, data):
    members = model_members(model_file)
    tree = json.loads(members["model.json"])
    if data.draw(st.booleans(), label="change the tree"):
        _mutate_tree(tree, data)
    if data.draw(st.booleans(), label="change an array"):
        _mutate_array(members, data)
    if data.draw(st.booleans(), label="add a member"):
        members[data.draw(st.sampled_from(["arrays/77.npy", "pickled/0.pkl", "x.py", "model.json/"]))] = b"\x80"
    members["model.json"] = json.dumps(tree).encode()
    path = tmp_path / "forged.atm"
    write_model_members(path, members)
    try:
        model = load_model(path)
    except ModelError:
        return
    model.classify_many(PROBE_TEXTS)  # wrong scores at worst, never an error


QUOTED_FIELDS = st.text(alphabet=st.sampled_from('ab"، ,\t'), max_size=12)


@fuzz_settings
@given(st.lists(QUOTED_FIELDS, min_size=1, max_size=30), st.sampled_from([",", "\t"]))
def test_csv_rows_are_never_lost_silently(tmp_path, fields, delimiter):
    # Unquoted rows whose text holds stray quotes, commas and tabs: with --quoting none every row comes back,
    # in order; with csv quoting every row comes back too, unless the reader stops with the quote error.
    fields = [f.replace(delimiter, " ") for f in fields]
    suffix = ".tsv" if delimiter == "\t" else ".csv"
    path = tmp_path / f"rows{suffix}"
    path.write_text(
        f"id{delimiter}text\n" + "".join(f"{i}{delimiter}x{f}\n" for i, f in enumerate(fields)), encoding="utf-8"
    )
    docs = list(iter_documents([str(path)], quoting="none"))
    assert [d.id for d in docs] == [str(i) for i in range(len(fields))]
    try:
        docs = list(iter_documents([str(path)]))
    except InputError as exc:
        assert "--quoting none" in str(exc)
        return
    if not any('"' in f for f in fields):
        assert [d.id for d in docs] == [str(i) for i in range(len(fields))]
    else:  # quoted pieces may join lines, but every line's id that starts a row is in order
        ids = [int(d.id) for d in docs if d.id.isdigit()]
        assert ids == sorted(ids)
