"""Model files: data only, checked before anything is built.

A model file (``*.atm``, format 2) is a ZIP container:

``metadata.json``
    format version, library / numpy / Python versions (and the
    scikit-learn that trained it), theme labels and thresholds,
    training-data sha256 and size, cross-validated metrics, creation time,
    and the sha256 of the payload (every other member).
``model.json``
    the fitted :class:`~arabictopics.model.TopicModel` as a tree of plain
    data: each estimator by class name, with its parameters and fitted
    attributes; numbers, strings, lists, and a few tagged nodes
    (``{"t": "tuple"}``, ``{"t": "index"}`` for a vocabulary stored as its
    term list, ``{"t": "array"}`` pointing at an array member, ...).
``arrays/N.npy``
    every numeric array (vocabulary weights, coefficients, thresholds,
    folds, the passage layer's heads).
``pickled/N.pkl``
    only in files saved with ``allow_pickle=True``: components of the
    user's own that are not data.

Loading reads nothing that is not data.  Class names are looked up in a
fixed table of arabictopics's own estimators and function names in a fixed
table of :mod:`arabictopics.text` functions (nothing the file names is
imported); arrays are read with ``numpy.load(allow_pickle=False)`` after
their header is checked against ``model.json``; every estimator checks its
state (:meth:`~arabictopics._base.BaseEstimator._check_state`: types,
shapes, ranges) as it is built, and the built model scores a probe article
before it is returned.  Every member's size is bounded before it is read,
so a crafted file cannot exhaust memory.  A forged file can at worst give
wrong scores; anything malformed raises
:class:`~arabictopics.exceptions.ModelError` saying what is wrong.

Format-1 files (a joblib pickle, arabictopics < 0.3) are refused;
:func:`convert_model` (``arabictopics convert OLD NEW --trust-pickle``) is
the one place that unpickles one, and only when told the file is trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import pickle
import platform
import re
import stat
import tempfile
import threading
import zipfile
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from ._default_model import DEFAULT_MODEL_SHA256
from .exceptions import ModelError

__all__ = [
    "FORMAT_VERSION",
    "MODEL_SUFFIX",
    "convert_model",
    "default_model_path",
    "load_model",
    "read_model_metadata",
    "save_model",
    "verify_model",
]

#: Bumped whenever the payload's layout changes incompatibly.
FORMAT_VERSION = 2
MODEL_SUFFIX = ".atm"
_META = "metadata.json"
_TREE = "model.json"
_ARRAY_MEMBER = re.compile(r"arrays/[0-9]{1,7}\.npy")
_PICKLE_MEMBER = re.compile(r"pickled/[0-9]{1,7}\.pkl")
_LEGACY_PAYLOAD = "model.joblib"  # format 1
_REQUIRED = ("format", "library", "library_version", "labels", "thresholds", "payload_sha256")
#: Metadata fields save_model writes itself (convert_model carries over the others).
_WRITTEN_BY_SAVE = frozenset(
    {"format", "library", "labels", "thresholds", "n_features", "max_chars", "created", "pickled_components"}
    | {"library_version", "sklearn_version", "numpy_version", "scipy_version", "python_version"}
    | {"payload_sha256", "payload_bytes"}
)
#: Array dtypes a model file may hold: booleans, integers and floats, little-endian.
_DTYPES = frozenset({"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"})
#: Scalar types a parameter may name (``ArabicTfidfVectorizer(dtype=...)``).
_SCALAR_TYPES = {"float16": np.float16, "float32": np.float32, "float64": np.float64}
_MAX_DEPTH = 64
#: A short article scored by every loaded model before it is returned.
_PROBE = (
    "اجتمع وزراء الداخلية لبحث مكافحة الإرهاب وتهريب المخدرات والجرائم الإلكترونية. "
    "وناقش الاجتماع أمن الحدود والطائرات المسيرة والتعاون في التدريب. وفاز الفريق بالمباراة."
)
_default_cache: dict[str, Any] = {}
_default_lock = threading.Lock()


def _payload_digest(members: dict[str, bytes]) -> str:
    """sha256 over every payload member, in name order, each framed by its
    name and length (so members cannot be renamed or moved unnoticed)."""
    digest = hashlib.sha256()
    for name in sorted(members):
        data = members[name]
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _major_minor(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if "0" <= ch <= "9")
        parts.append(int(digits[:9]) if digits else 0)  # 9 digits: no giant-int conversion
    return tuple(parts)


def _installed_version(distribution: str) -> str:
    """An installed distribution's version, read without importing it
    (importing scikit-learn costs about a second)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _versions() -> dict[str, str]:
    return {
        "library_version": __version__,
        "sklearn_version": _installed_version("scikit-learn"),
        "numpy_version": np.__version__,
        "scipy_version": _installed_version("scipy"),
        "python_version": platform.python_version(),
    }


# --------------------------------------------------------------------------
# the tree: estimators <-> plain data
# --------------------------------------------------------------------------


def _classes() -> dict[str, type]:
    """The estimators a model file may name (nothing else is ever built)."""
    from .features import ArabicPreprocessor, ArabicTfidfVectorizer, KeyphraseCounter, ThemeFeatures
    from .model import ThemeClassifier, TopicModel
    from .passages import PassageLayer

    kinds = (TopicModel, ThemeClassifier, PassageLayer, ArabicPreprocessor, ThemeFeatures)
    return {cls.__name__: cls for cls in (*kinds, ArabicTfidfVectorizer, KeyphraseCounter)}


def _functions() -> dict[str, Any]:
    """The functions a model file may name (an analyzer): those of :mod:`arabictopics.text`."""
    from . import text

    return {f"arabictopics.text.{name}": getattr(text, name) for name in text.__all__ if callable(getattr(text, name))}


def _qualname(value: Any) -> str:
    kind = value if isinstance(value, type) else type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


class _Writer:
    """Turns a model into ``model.json``'s tree and the array / pickle members."""

    def __init__(self, allow_pickle: bool):
        self.allow_pickle = allow_pickle
        self.members: dict[str, bytes] = {}
        self.pickled: list[str] = []
        self.classes = {cls: name for name, cls in _classes().items()}
        self.functions = {id(function): name for name, function in _functions().items()}

    def encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, np.generic):
            return value
        if isinstance(value, float) and not isinstance(value, np.generic):
            return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
        if isinstance(value, list):
            return [self.encode(item, f"{where}[{k}]") for k, item in enumerate(value)]
        if isinstance(value, tuple):
            return {"t": "tuple", "v": [self.encode(item, f"{where}[{k}]") for k, item in enumerate(value)]}
        if isinstance(value, dict):
            return self._dict(value, where)
        if isinstance(value, np.ndarray):
            stored = self._array(value, where)
            if stored is not None:
                return stored
        elif isinstance(value, np.generic) and value.dtype.str in _DTYPES:
            return {"t": "scalar", "dtype": value.dtype.str, "v": self.encode(value.item(), where)}
        elif isinstance(value, type) and value in _SCALAR_TYPES.values():
            return {"t": "dtype", "v": np.dtype(value).name}
        elif type(value) in self.classes:  # exactly ours: a subclass may hold anything
            params, fitted = value._get_state()
            return {
                "t": "estimator",
                "class": self.classes[type(value)],
                "params": {k: self.encode(v, f"{where}.{k}") for k, v in params.items()},
                "fitted": {k: self.encode(v, f"{where}.{k}") for k, v in fitted.items()},
            }
        elif callable(value) and id(value) in self.functions:
            return {"t": "function", "v": self.functions[id(value)]}
        return self._pickle(value, where)

    def _dict(self, value: dict, where: str) -> dict[str, Any]:
        if not all(isinstance(key, str) for key in value):
            return {
                "t": "items",
                "v": [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()],
            }
        numbers = list(value.values())
        if numbers and all(type(n) is int for n in numbers) and sorted(numbers) == list(range(len(numbers))):
            terms = [""] * len(numbers)  # a vocabulary: stored as its terms in column order
            for term, n in value.items():
                terms[n] = term
            return {"t": "index", "v": terms}
        return {"t": "dict", "v": {k: self.encode(v, f"{where}[{k!r}]") for k, v in value.items()}}

    def _array(self, value: np.ndarray, where: str) -> dict[str, Any] | None:
        if value.dtype == object or value.dtype.kind == "U":
            if value.ndim == 1 and all(isinstance(item, str) for item in value):
                kind = {"unicode": True} if value.dtype.kind == "U" else {}
                return {"t": "strings", "v": [str(item) for item in value], **kind}
            return None
        array = value.astype(value.dtype.newbyteorder("<"), copy=False)  # C or Fortran order kept
        if array.dtype.str not in _DTYPES:
            return None
        name = f"arrays/{len(self.members)}.npy"
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        self.members[name] = buffer.getvalue()
        return {"t": "array", "member": name, "dtype": array.dtype.str, "shape": list(array.shape)}

    def _pickle(self, value: Any, where: str) -> dict[str, Any]:
        if not self.allow_pickle:
            raise ModelError(
                f"{where} is a {_qualname(value)}, which a model file cannot hold as data (only arabictopics's own "
                "estimators, numbers, strings, lists, dicts and numeric arrays). Use arabictopics's components, or "
                "save with allow_pickle=True: the file then holds a pickle, and load_model(path, allow_pickle=True) "
                "must be told to run it."
            )
        name = f"pickled/{len(self.members)}.pkl"
        self.members[name] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.pickled.append(f"{where}: {_qualname(value)}")
        return {"t": "pickle", "member": name, "class": _qualname(value)}


class _Reader:
    """Builds the model from ``model.json``'s tree, checking every node."""

    TAGS = frozenset(
        {"float", "tuple", "dict", "items", "index", "strings", "scalar", "dtype", "function", "array", "pickle"}
        | {"estimator"}
    )

    def __init__(self, path: Path, members: dict[str, bytes], allow_pickle: bool):
        self.path = path
        self.members = members
        self.allow_pickle = allow_pickle
        self.classes = _classes()
        self.functions = _functions()
        # Whether an estimator met now must be fitted: the model itself and
        # every estimator among fitted attributes are; parameters are not.
        self.expect_fitted = True

    def fail(self, where: str, problem: str) -> ModelError:
        return ModelError(
            f"{self.path}: {where} {problem}; the file is damaged or was altered: restore it from a trusted copy or "
            "retrain it. It was not loaded."
        )

    def decode(self, node: Any, where: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail(where, f"is nested more than {_MAX_DEPTH} levels deep")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item, f"{where}[{k}]", depth + 1) for k, item in enumerate(node)]
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise self.fail(where, f"is a {type(node).__name__} without a known tag")
        decode = getattr(self, "_" + node["t"]) if node["t"] in self.TAGS else None
        if decode is None:
            raise self.fail(where, f"has the unknown tag {node['t'][:40]!r}")
        return decode(node, where, depth + 1)

    def _field(self, node: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
        value = node.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(where, f"has no valid {key!r} field")
        return value

    def _float(self, node: dict, where: str, depth: int) -> float:
        text = self._field(node, "v", str, where)
        if text not in ("nan", "inf", "-inf"):
            raise self.fail(where, "is not a float")
        return float(text)

    def _tuple(self, node: dict, where: str, depth: int) -> tuple:
        return tuple(self.decode(self._field(node, "v", list, where), where, depth))

    def _dict(self, node: dict, where: str, depth: int) -> dict:
        items = self._field(node, "v", dict, where)
        return {key: self.decode(value, f"{where}[{key!r}]", depth) for key, value in items.items()}

    def _items(self, node: dict, where: str, depth: int) -> dict:
        out = {}
        for pair in self._field(node, "v", list, where):
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(where, "holds an item that is not a [key, value] pair")
            key = self.decode(pair[0], f"{where} key", depth)
            try:
                out[key] = self.decode(pair[1], f"{where}[{key!r}]", depth)
            except TypeError:  # an unhashable key
                raise self.fail(where, "has a key that is not a number, string or tuple") from None
        return out

    def _index(self, node: dict, where: str, depth: int) -> dict[str, int]:
        terms = self._field(node, "v", list, where)
        index = {term: k for k, term in enumerate(terms) if isinstance(term, str)}
        if len(index) != len(terms):
            raise self.fail(where, "is not a list of distinct strings")
        return index

    def _strings(self, node: dict, where: str, depth: int) -> np.ndarray:
        items = self._field(node, "v", list, where)
        if not all(isinstance(item, str) for item in items):
            raise self.fail(where, "is not a list of strings")
        if node.get("unicode") is True:  # a numpy str array (dtype <U), not an object array
            return np.array(items, dtype=str)
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out

    def _scalar(self, node: dict, where: str, depth: int) -> np.generic:
        dtype = self._field(node, "dtype", str, where)
        value = node.get("v")
        if dtype not in _DTYPES or isinstance(value, (list, dict, str)) or value is None:
            raise self.fail(where, "is not a numeric scalar")
        try:
            return np.dtype(dtype).type(self.decode(value, where, depth))
        except (OverflowError, ValueError, TypeError):
            raise self.fail(where, f"does not fit its type {dtype}") from None

    def _dtype(self, node: dict, where: str, depth: int) -> type:
        name = self._field(node, "v", str, where)
        if name not in _SCALAR_TYPES:
            raise self.fail(where, f"names the type {name[:40]!r}, not one of {sorted(_SCALAR_TYPES)}")
        return _SCALAR_TYPES[name]

    def _function(self, node: dict, where: str, depth: int) -> Any:
        name = self._field(node, "v", str, where)
        if name not in self.functions:
            raise self.fail(where, f"names the function {name[:80]!r}, which is not one of arabictopics.text's")
        return self.functions[name]

    def _array(self, node: dict, where: str, depth: int) -> np.ndarray:
        member = self._field(node, "member", str, where)
        dtype = self._field(node, "dtype", str, where)
        shape = self._field(node, "shape", list, where)
        if member not in self.members or not _ARRAY_MEMBER.fullmatch(member):
            raise self.fail(where, f"points at {member[:40]!r}, which is not an array member of the file")
        if dtype not in _DTYPES:
            raise self.fail(where, f"has the dtype {dtype[:20]!r}; arrays must be booleans, integers or floats")
        if len(shape) > 4 or not all(type(n) is int and 0 <= n < 2**40 for n in shape):
            raise self.fail(where, f"has an invalid shape {shape!r:.60}")
        data = self.members[member]
        stream = io.BytesIO(data)
        try:
            npy = np.lib.format
            version = npy.read_magic(stream)
            header = (npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0)(stream)
        except Exception as exc:  # ValueError for a bad magic string or header
            raise self.fail(member, f"is not a .npy array ({exc})") from None
        size = math.prod(shape) * np.dtype(dtype).itemsize
        if header[0] != tuple(shape) or header[2] != np.dtype(dtype) or len(data) - stream.tell() != size:
            raise self.fail(member, f"does not hold the {dtype} array of shape {tuple(shape)} that model.json declares")
        stream.seek(0)
        return np.load(stream, allow_pickle=False)

    def _pickle(self, node: dict, where: str, depth: int) -> Any:
        member = self._field(node, "member", str, where)
        if not self.allow_pickle:
            raise ModelError(
                f"{self.path}: {where} is a pickled {str(node.get('class'))[:80]}; pickles run code when loaded. "
                "Load it with allow_pickle=True only if you trust whoever made the file."
            )
        if member not in self.members or not _PICKLE_MEMBER.fullmatch(member):
            raise self.fail(where, f"points at {member[:40]!r}, which is not a pickle member of the file")
        try:
            return pickle.loads(self.members[member])
        except Exception as exc:  # unpickling raises anything: report it as ours
            raise self.fail(where, f"could not be unpickled ({type(exc).__name__}: {exc})") from None

    def _estimator(self, node: dict, where: str, depth: int) -> Any:
        name = self._field(node, "class", str, where)
        if name not in self.classes:
            raise self.fail(where, f"names the class {name[:80]!r}, which is not an arabictopics estimator")
        parts = {}
        expect_fitted = self.expect_fitted
        for key in ("params", "fitted"):
            fields = self._field(node, key, dict, where)
            self.expect_fitted = key == "fitted"
            try:
                parts[key] = {k: self.decode(v, f"{where}.{k}", depth) for k, v in fields.items()}
            finally:
                self.expect_fitted = expect_fitted
        if expect_fitted and self.classes[name]._state_attributes and not parts["fitted"]:
            raise self.fail(where, f"is a {name} that was never fitted")
        try:
            return self.classes[name]._from_state(parts["params"], parts["fitted"])
        except ModelError:
            raise
        except Exception as exc:  # a parameter or attribute that does not fit the class
            raise self.fail(f"{where} ({name})", f"is inconsistent: {type(exc).__name__}: {exc}") from None


def _pickled_nodes(node: Any, depth: int = 0) -> list[str]:
    """Classes of the pickles a tree holds: found before anything is built."""
    if depth > _MAX_DEPTH:
        return []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    found = [str(node.get("class"))[:80]] if isinstance(node, dict) and node.get("t") == "pickle" else []
    for child in children:
        found += _pickled_nodes(child, depth + 1)
    return found


def default_model_path() -> Path:
    """Path of the model shipped inside the package."""
    return Path(str(resources.files(__package__).joinpath("data/default_model" + MODEL_SUFFIX)))


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    companions: dict[str | os.PathLike[str], str] | None = None,
    allow_pickle: bool = False,
) -> dict[str, Any]:
    """Write ``model`` to ``path`` as data (format 2), atomically, and return its metadata.

    The file is written next to ``path`` under a temporary name, flushed to
    disk and then renamed over ``path``: an interrupted save leaves the
    previous file (if any) untouched.

    Parameters
    ----------
    model : TopicModel
        A fitted model.
    path : str or path-like
        Destination, conventionally ending in ``.atm``.
    metadata : dict, optional
        Extra fields stored in ``metadata.json`` (training data, metrics, ...).
    companions : dict of path to str, optional
        Text files written with the model as one commit (a training report):
        every file is written to its temporary name first, and only when all
        are ready are they renamed into place; if any write fails, none of
        them is.
    allow_pickle : bool, default=False
        A model built from arabictopics's estimators is stored as data.  A
        component of your own (a class of yours, a lambda, another library's
        estimator) cannot be: saving it raises :class:`ModelError`, unless
        ``allow_pickle=True`` stores that component as a pickle, which
        :func:`load_model` then runs only when given ``allow_pickle=True``
        too (and only under the scikit-learn minor version that saved it).

    Returns
    -------
    dict
        The metadata written.

    Raises
    ------
    ModelError
        ``model`` is not a fitted TopicModel, or holds a component that is
        not data and ``allow_pickle`` is false.
    """
    from ._base import check_is_fitted
    from .model import TopicModel

    if not isinstance(model, TopicModel):
        raise ModelError(f"save_model saves a TopicModel, got {type(model).__name__}.")
    check_is_fitted(model, "classes_")
    writer = _Writer(allow_pickle)
    tree = writer.encode(model, "model")
    members = {_TREE: json.dumps({"root": tree}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")}
    members.update(writer.members)
    meta: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "library": "arabictopics",
        **_versions(),
        "labels": [str(label) for label in model.classes_],
        "thresholds": [round(float(t), 6) for t in model.thresholds_],
        "n_features": getattr(model.classifier_, "n_features_in_", None),
        "max_chars": model.max_chars,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        **(metadata or {}),
        "payload_sha256": _payload_digest(members),
        "payload_bytes": sum(len(data) for data in members.values()),
    }
    if writer.pickled:
        meta["pickled_components"] = writer.pickled
    ready: list[tuple[str, Path]] = []
    try:
        tmp, target = _temporary(path)
        ready.append((tmp, target))
        with open(tmp, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                zf.writestr(_META, json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True))
                for name, data in members.items():
                    zf.writestr(name, data)
            raw.flush()
            os.fsync(raw.fileno())
        for other, text in (companions or {}).items():
            tmp, target = _temporary(other)
            ready.append((tmp, target))
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, target in ready:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in ready:
            Path(tmp).unlink(missing_ok=True)
        raise
    return meta


def _temporary(path: str | os.PathLike[str]) -> tuple[str, Path]:
    """A new empty file for an atomic rename onto the file ``path`` names
    (a symlink's target), and that file.

    The temporary file sits in the target's directory and has the target's
    mode when it exists (the usual mode for a new file).  A target that is
    not a regular file (a device, a pipe) is refused: a rename would replace
    it."""
    from .io import output_target

    target, status = output_target(path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file (a device or a pipe)"
        raise ModelError(f"{path} is {kind}; save a model to a file path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    # mkstemp makes it private (0600): give it the old file's mode, or the usual one
    os.chmod(tmp, stat.S_IMODE(status.st_mode) if status is not None else 0o666 & ~_umask())
    return tmp, target


def _umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


#: Bounds on what loading a model file reads, so that a crafted file cannot
#: exhaust memory: the file itself, its metadata member and its payload.
MAX_MODEL_FILE_BYTES = 1 << 30
MAX_METADATA_BYTES = 16 << 20
MAX_PAYLOAD_BYTES = 1 << 30


def _open(path: Path) -> zipfile.ZipFile:
    try:
        status = os.stat(path)  # follows a symlink: what is checked is what is read
    except FileNotFoundError:
        raise ModelError(
            f"model file {path} does not exist; check the path, or omit it to use the shipped model."
        ) from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(status.st_mode):
        raise ModelError(f"{path} is a directory, not a model file; pass the .atm file inside it.")
    if not stat.S_ISREG(status.st_mode):
        raise ModelError(f"{path} is not a regular file (a device, a pipe or a socket); a model is a .atm file.")
    if status.st_size > MAX_MODEL_FILE_BYTES:
        raise ModelError(
            f"{path} is {status.st_size} bytes, more than a model file holds ({MAX_MODEL_FILE_BYTES}); "
            "it is not an arabictopics model."
        )
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelError(
            f"{path} is not an arabictopics model file (or it is truncated): expected a .atm file written by "
            "arabictopics.save_model or `arabictopics train`; plain joblib/pickle files are not accepted."
        ) from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}.") from None
    except Exception as exc:  # a damaged central directory raises ValueError, struct.error, ...
        raise ModelError(
            f"{path} is damaged ({type(exc).__name__}: {exc}); retrain it or restore it from a copy."
        ) from None


def _check_metadata(meta: Any, path: Path) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("library") != "arabictopics":
        raise ModelError(f"{path} has no arabictopics metadata; it was not written by arabictopics.save_model.")
    fmt = meta.get("format")
    if fmt == 1 and not isinstance(fmt, bool):
        raise ModelError(
            f"{path} is a format-1 model file (a pickle, which runs code when it is loaded, written by arabictopics "
            f"{meta.get('library_version', '< 0.3')}); this version reads format {FORMAT_VERSION}, which holds data "
            f"only. If you trust the file, convert it once: arabictopics convert {path} NEW.atm --trust-pickle "
            "(or retrain it with `arabictopics train`)."
        )
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise ModelError(f"{path} metadata lacks {', '.join(missing)}; the file is damaged: retrain or re-download it.")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise ModelError(f"{path} metadata has an invalid format {fmt!r:.40}; the file is damaged: retrain it.")
    if fmt > FORMAT_VERSION:
        raise ModelError(
            f"{path} uses model format {fmt}, newer than arabictopics {__version__} reads (format {FORMAT_VERSION}); "
            "upgrade with `pip install -U arabictopics`, or retrain the model with this version."
        )
    checksum, labels, thresholds = meta["payload_sha256"], meta["labels"], meta["thresholds"]
    if (
        not (isinstance(checksum, str) and len(checksum) == 64)
        or not (isinstance(labels, list) and all(isinstance(label, str) for label in labels))
        or not isinstance(thresholds, list)
        or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in thresholds)
    ):
        raise ModelError(
            f"{path} metadata is malformed (payload_sha256, labels or thresholds); the file is damaged: retrain it."
        )
    return meta


def read_model_metadata(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read a model file's metadata, and nothing else.

    Parameters
    ----------
    path : str or path-like, optional
        Model file; the shipped model when omitted.

    Returns
    -------
    dict
    """
    path = Path(path) if path is not None else default_model_path()
    with _open(path) as zf:
        return _read_metadata(zf, path)


def _read_member(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, limit: int, path: Path) -> bytes:
    """Member ``name``, read only if its declared size is within ``limit``,
    and streamed so that it never yields more (a zip bomb that lies about
    its size is stopped at the limit)."""
    info = name if isinstance(name, zipfile.ZipInfo) else zf.getinfo(name)  # KeyError: no such member
    if info.file_size > limit:
        raise ModelError(
            f"{path}: {info.filename} declares {info.file_size} bytes, more than a model holds ({limit}); the file "
            "is damaged or was crafted; it was not loaded."
        )
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ModelError(
            f"{path}: {info.filename} holds more than {limit} bytes; the file is damaged; it was not loaded."
        )
    return data


def _read_metadata(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(_read_member(zf, _META, MAX_METADATA_BYTES, path).decode("utf-8"))
    except ModelError:
        raise
    except KeyError:
        raise ModelError(f"{path} has no {_META}; it was not written by arabictopics.save_model.") from None
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError, invalid JSON, ...
        raise ModelError(f"{path} metadata is unreadable ({exc}); the file is damaged: retrain it.") from None
    if not isinstance(meta, dict):
        raise ModelError(
            f"{path} metadata is not a JSON object ({type(meta).__name__}); it was not written by arabictopics."
        )
    return meta


def load_model(path: str | os.PathLike[str] | None = None, *, allow_pickle: bool = False) -> Any:
    """Load a model file, checking it before and while it is built.

    Checks, in order: the file is a model container of a format this
    version reads; its metadata is complete; its members are the ones a
    model file has and their sizes are within bounds; the payload's sha256
    matches the metadata (and, for the shipped model, the sha256 pinned in
    the code).  Then the model is built from data, every estimator checking
    its own state, and must be a :class:`~arabictopics.model.TopicModel`
    whose themes and thresholds match the metadata and that scores a probe
    article.  Nothing is unpickled unless ``allow_pickle`` is true and the
    file holds pickled components (see :func:`save_model`).

    Parameters
    ----------
    path : str or path-like, optional
        A ``.atm`` file.  Omitted: the shipped default model, loaded once
        per process and cached.
    allow_pickle : bool, default=False
        Run the pickles of a file saved with ``allow_pickle=True``.  Only
        for files you made or got from someone you trust.

    Returns
    -------
    TopicModel

    Raises
    ------
    ModelError
        With what is wrong and what to do.

    Examples
    --------
    >>> model = load_model()                                  # doctest: +SKIP
    >>> model.classify("اعتراض طائرة مسيرة مفخخة").labels      # doctest: +SKIP
    ('drones',)
    """
    if path is None:
        cached = _default_cache.get("model")
        if cached is None:
            with _default_lock:  # threads asking at once wait for the one load
                cached = _default_cache.get("model")
                if cached is None:
                    cached = _default_cache["model"] = _load(default_model_path(), pinned=DEFAULT_MODEL_SHA256)
        return cached
    return _load(Path(path), allow_pickle=allow_pickle)


def verify_model(path: str | os.PathLike[str] | None = None, *, allow_pickle: bool = False) -> dict[str, Any]:
    """Run every check of :func:`load_model` and return the metadata.

    Use it to fail early on a bad model file before handing its path to
    worker processes that load it.

    Parameters
    ----------
    path : str or path-like, optional
        Model file; the shipped model when omitted.
    allow_pickle : bool, default=False
        As for :func:`load_model`.

    Returns
    -------
    dict
        The model's metadata.

    Raises
    ------
    ModelError
    """
    if path is None:
        return load_model().metadata_
    return _load(Path(path), allow_pickle=allow_pickle).metadata_


def _verified_payload(path: Path, pinned: str | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The checked metadata and every payload member, read within bounds and checksummed."""
    with _open(path) as zf:  # opened once: metadata checked before the payload is read
        meta = _check_metadata(_read_metadata(zf, path), path)
        infos = [info for info in zf.infolist() if info.filename != _META]
        names = [info.filename for info in infos]
        strange = [n for n in names if n != _TREE and not (_ARRAY_MEMBER.fullmatch(n) or _PICKLE_MEMBER.fullmatch(n))]
        if strange or len(set(names)) != len(names) or _TREE not in names:
            if strange:
                what = f"members a model file does not have ({', '.join(n[:40] for n in strange[:3])})"
            else:
                what = f"no {_TREE}" if _TREE not in names else "a member twice"
            raise ModelError(f"{path} holds {what}; it is damaged or was not written by arabictopics.save_model.")
        declared = meta.get("payload_bytes")
        budget = declared if type(declared) is int and 0 <= declared <= MAX_PAYLOAD_BYTES else MAX_PAYLOAD_BYTES
        total = sum(info.file_size for info in infos)
        if total > budget:
            raise ModelError(
                f"{path}: its members declare {total} bytes, more than its metadata says or a model holds "
                f"({budget}); the file is damaged or was crafted; it was not loaded."
            )
        try:
            members = {info.filename: _read_member(zf, info, info.file_size, path) for info in infos}
        except ModelError:
            raise
        except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError, ...
            raise ModelError(f"{path} is damaged ({exc}); retrain it or restore it from a copy.") from None
    digest = _payload_digest(members)
    if digest != meta["payload_sha256"] or (pinned and digest != pinned):
        raise ModelError(
            f"{path} failed its checksum (sha256 {digest[:12]}… expected "
            f"{(pinned or meta['payload_sha256'])[:12]}…): the file is corrupted or was altered. "
            "Restore it from a trusted copy or retrain it; it was not loaded."
        )
    return meta, members


def _load(path: Path, pinned: str | None = None, allow_pickle: bool = False) -> Any:
    meta, members = _verified_payload(path, pinned)
    try:
        document = json.loads(members[_TREE].decode("utf-8"))
    except Exception as exc:  # UnicodeDecodeError, JSONDecodeError, RecursionError
        raise ModelError(f"{path}: {_TREE} is not JSON ({type(exc).__name__}); the file is damaged.") from None
    if not isinstance(document, dict) or "root" not in document:
        raise ModelError(f"{path}: {_TREE} has no model; the file is damaged: retrain it.")
    pickled = _pickled_nodes(document["root"])
    if pickled and not allow_pickle:
        raise ModelError(
            f"{path} holds pickled components ({', '.join(pickled[:5])}), saved with allow_pickle=True; a pickle "
            "runs code when it is loaded. Load it with load_model(path, allow_pickle=True) only if you trust "
            "whoever made the file."
        )
    if pickled:
        _check_sklearn_version(meta, path)
    model = _Reader(path, members, allow_pickle).decode(document["root"], "model")
    from .model import TopicModel

    if type(model) is not TopicModel:
        raise ModelError(f"{path} holds a {type(model).__name__}, not a TopicModel; it is not an arabictopics model.")
    labels = [str(label) for label in model.classes_]
    thresholds = [round(float(t), 6) for t in model.thresholds_]
    if labels != meta["labels"] or thresholds != [round(float(t), 6) for t in meta["thresholds"]]:
        raise ModelError(f"{path} metadata does not match its model (labels or thresholds differ); retrain it.")
    try:
        model.predict_levels([_PROBE, ""])
    except Exception as exc:  # what the state checks did not catch
        raise ModelError(
            f"{path} holds a model that cannot score ({type(exc).__name__}: {exc}); the file is damaged or was "
            "altered: restore it from a trusted copy or retrain it."
        ) from None
    model.metadata_ = meta
    return model


def _check_sklearn_version(meta: dict[str, Any], path: Path) -> None:
    """Pickles of scikit-learn objects are only safe within one scikit-learn minor version."""
    saved, installed = str(meta.get("sklearn_version", "?")), _installed_version("scikit-learn")
    if _major_minor(saved) != _major_minor(installed):
        raise ModelError(
            f"{path} holds pickles made with scikit-learn {saved} but {installed} is installed; pickled objects are "
            f"only safe within one scikit-learn minor version. Install scikit-learn=={saved}, or retrain the model."
        )


def convert_model(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, trust_pickle: bool = False
) -> dict[str, Any]:
    """Rewrite a format-1 model file (a pickle) as a data-only format-2 file.

    The one function that unpickles a whole model file: it runs whatever
    code the file holds, so it requires ``trust_pickle=True``.  The file is
    checked as format-1 files were (metadata, scikit-learn minor version,
    checksum), unpickled, saved as format 2 with its training metadata, and
    the new file is loaded back and must score probe articles exactly as
    the old one did.

    Parameters
    ----------
    source : str or path-like
        The format-1 ``.atm`` file.
    target : str or path-like
        Where to write the format-2 file (atomically).
    trust_pickle : bool, default=False
        Confirms that ``source`` comes from someone you trust.

    Returns
    -------
    dict
        The new file's metadata.

    Raises
    ------
    ModelError
    """
    source = Path(source)
    if not trust_pickle:
        raise ModelError(
            f"converting {source} unpickles it, which runs any code the file holds; pass trust_pickle=True "
            "(`arabictopics convert OLD NEW --trust-pickle`) only for a file you made or got from someone you trust."
        )
    with _open(source) as zf:
        meta = _read_metadata(zf, source)
        if meta.get("library") != "arabictopics":
            raise ModelError(f"{source} has no arabictopics metadata; it was not written by arabictopics.")
        if meta.get("format") != 1:
            raise ModelError(f"{source} is model format {meta.get('format')!r:.20}, not 1: nothing to convert.")
        if not isinstance(meta.get("payload_sha256"), str):
            raise ModelError(f"{source} metadata lacks payload_sha256; the file is damaged: retrain it.")
        _check_sklearn_version(meta, source)
        try:
            payload = _read_member(zf, _LEGACY_PAYLOAD, MAX_PAYLOAD_BYTES, source)
        except KeyError:
            raise ModelError(f"{source} has no {_LEGACY_PAYLOAD}; the file is damaged: retrain it.") from None
    if hashlib.sha256(payload).hexdigest() != meta["payload_sha256"]:
        raise ModelError(f"{source} failed its checksum: the file is corrupted or was altered; it was not converted.")
    import joblib

    try:
        old = joblib.load(io.BytesIO(payload))
    except Exception as exc:  # unpickling raises anything: report it as ours
        raise ModelError(f"{source} could not be unpickled ({type(exc).__name__}: {exc}); retrain it.") from None
    from .model import TopicModel

    if type(old) is not TopicModel or not hasattr(old, "passages_"):
        raise ModelError(
            f"{source} holds a model without the two-level answer (library version "
            f"{meta.get('library_version', '?')}) or not a TopicModel; retrain it from its data with "
            "`arabictopics train DATA -o MODEL`."
        )
    carried = {key: value for key, value in meta.items() if key not in _WRITTEN_BY_SAVE}
    carried["converted_from"] = {"format": 1, "payload_sha256": meta["payload_sha256"]}
    written = save_model(old, target, metadata=carried)
    new = _load(Path(target))
    probes = [_PROBE, "", _PROBE * 3]
    if not all(np.array_equal(a, b) for a, b in zip(old.predict_levels(probes), new.predict_levels(probes))):
        Path(target).unlink(missing_ok=True)
        raise ModelError(f"{source} did not convert faithfully (the new file scores differently); retrain it.")
    return written
