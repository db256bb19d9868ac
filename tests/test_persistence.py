"""Model files: round trip, every kind of damage is a clear ModelError, atomic saves."""

from __future__ import annotations

import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest

import arabictopics
from arabictopics import ModelError, load_model, persistence, read_model_metadata, save_model


@pytest.fixture()
def saved(small_model, tmp_path):
    path = tmp_path / "m.atm"
    save_model(small_model, path, metadata={"note": "test"})
    return path


def _rewrite(path, meta=None, payload=None):
    with zipfile.ZipFile(path) as zf:
        old_meta = json.loads(zf.read("metadata.json"))
        old_payload = zf.read("model.joblib")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps(meta if meta is not None else old_meta))
        zf.writestr("model.joblib", payload if payload is not None else old_payload)
    return old_meta


def test_round_trip(saved, small_model, records):
    model = load_model(saved)
    texts = [r["text"] for r in records[:30]]
    assert np.array_equal(model.predict_proba(texts), small_model.predict_proba(texts))
    meta = read_model_metadata(saved)
    assert meta["labels"] == list(small_model.classes_) and meta["note"] == "test"
    for key in ("format", "library_version", "sklearn_version", "numpy_version", "payload_sha256", "created"):
        assert key in meta


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nope.atm")


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated|damaged|not an arabictopics"):
        load_model(saved)


def test_flipped_byte_in_payload(saved):
    meta = _rewrite(saved)
    with zipfile.ZipFile(saved) as zf:
        payload = bytearray(zf.read("model.joblib"))
    payload[len(payload) // 2] ^= 0xFF
    _rewrite(saved, meta, bytes(payload))
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


def test_pickle_of_other_object(saved):
    meta = _rewrite(saved)
    payload = pickle.dumps({"not": "a model"})
    import hashlib

    meta["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    _rewrite(saved, meta, payload)
    with pytest.raises(ModelError, match="holds a dict"):
        load_model(saved)


def test_model_without_the_passage_layer_says_retrain(saved, small_model):
    import copy
    import hashlib
    import io

    old = copy.copy(small_model)
    del old.passages_  # what a model trained before the two-level answer holds
    buffer = io.BytesIO()
    joblib.dump(old, buffer)
    meta = _rewrite(saved)
    meta["payload_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    _rewrite(saved, meta, buffer.getvalue())
    with pytest.raises(ModelError, match="without the two-level answer.*arabictopics train"):
        load_model(saved)


def test_checksum_checked_before_unpickling(saved, monkeypatch):
    meta = _rewrite(saved)
    _rewrite(saved, meta, b"garbage that would explode if unpickled")
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled before checking"))
    with pytest.raises(ModelError, match="checksum"):
        load_model(saved)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.pop("payload_sha256"), "lacks payload_sha256"),
        (lambda m: m.update(format=99), "newer than"),
        (lambda m: m.update(format=0), "older than"),
        (lambda m: m.update(sklearn_version="0.24.2"), "scikit-learn 0.24.2"),
        (lambda m: m.update(library="other"), "no arabictopics metadata"),
        (lambda m: m.update(labels=["a", "b"]), "does not match"),
    ],
    ids=["no checksum", "newer format", "older format", "older scikit-learn", "foreign", "labels mismatch"],
)
def test_metadata_problems(saved, change, message):
    meta = _rewrite(saved)
    change(meta)
    _rewrite(saved, meta)
    with pytest.raises(ModelError, match=message):
        load_model(saved)


def test_metadata_not_json(saved):
    with zipfile.ZipFile(saved) as zf:
        payload = zf.read("model.joblib")
    with zipfile.ZipFile(saved, "w") as zf:
        zf.writestr("metadata.json", "{not json")
        zf.writestr("model.joblib", payload)
    with pytest.raises(ModelError, match="unreadable"):
        load_model(saved)


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
    import os
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
