"""Model files: save atomically, check everything before unpickling.

A model file (``*.atm``) is a ZIP container with two members:

``metadata.json``
    format version, library / scikit-learn / numpy / Python versions,
    theme labels and thresholds, training-data sha256 and size,
    cross-validated metrics, creation time, and the sha256 of the payload.
``model.joblib``
    the fitted :class:`~arabictopics.model.TopicModel`, pickled by joblib.

:func:`load_model` reads and checks the metadata (format, versions,
checksum) *before* the payload is unpickled, and turns every failure into a
:class:`~arabictopics.exceptions.ModelError` that says what to do.

.. warning::
   joblib/pickle files run code when they are loaded.  The checksum catches
   damage, not an attacker who rewrites the metadata too: load only model
   files you made or got from someone you trust.  The shipped default model
   is additionally pinned by the sha256 in :mod:`arabictopics._default_model`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import stat
import tempfile
import threading
import zipfile
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from ._default_model import DEFAULT_MODEL_SHA256
from .exceptions import ModelError

__all__ = [
    "FORMAT_VERSION",
    "MODEL_SUFFIX",
    "default_model_path",
    "load_model",
    "read_model_metadata",
    "save_model",
    "verify_model",
]

#: Bumped whenever the payload's layout changes incompatibly.
FORMAT_VERSION = 1
#: Oldest format this version reads.
MIN_FORMAT_VERSION = 1
MODEL_SUFFIX = ".atm"
_META = "metadata.json"
_PAYLOAD = "model.joblib"
_REQUIRED = ("format", "library", "library_version", "sklearn_version", "labels", "thresholds", "payload_sha256")
_default_cache: dict[str, Any] = {}
_default_lock = threading.Lock()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _major_minor(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if "0" <= ch <= "9")
        parts.append(int(digits[:9]) if digits else 0)  # 9 digits: no giant-int conversion
    return tuple(parts)


def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {
        "library_version": __version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
    }


def default_model_path() -> Path:
    """Path of the model shipped inside the package."""
    return Path(str(resources.files(__package__).joinpath("data/default_model" + MODEL_SUFFIX)))


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    companions: dict[str | os.PathLike[str], str] | None = None,
) -> dict[str, Any]:
    """Write ``model`` to ``path`` atomically and return its metadata.

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

    Returns
    -------
    dict
        The metadata written.
    """
    import joblib
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "classes_")
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=0)
    payload = buffer.getvalue()
    meta: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "library": "arabictopics",
        **_versions(),
        "labels": [str(label) for label in model.classes_],
        "thresholds": [round(float(t), 6) for t in model.thresholds_],
        "n_features": int(model.classifier_.coef_.shape[1]),
        "max_chars": model.max_chars,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        **(metadata or {}),
        "payload_sha256": _sha256(payload),
        "payload_bytes": len(payload),
    }
    ready: list[tuple[str, Path]] = []
    try:
        tmp, target = _temporary(path)
        ready.append((tmp, target))
        with open(tmp, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                zf.writestr(_META, json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True))
                zf.writestr(_PAYLOAD, payload)
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


def _installed_sklearn_version() -> str:
    """The installed scikit-learn's version, read without importing it (an
    import costs about a second, which ``verify_model`` must not)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scikit-learn")
    except PackageNotFoundError:  # not installed as a distribution (e.g. a source tree)
        import sklearn

        return sklearn.__version__


def _check_metadata(meta: Any, path: Path) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("library") != "arabictopics":
        raise ModelError(f"{path} has no arabictopics metadata; it was not written by arabictopics.save_model.")
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise ModelError(f"{path} metadata lacks {', '.join(missing)}; the file is damaged: retrain or re-download it.")
    fmt = meta["format"]
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise ModelError(
            f"{path} uses model format {fmt}, newer than arabictopics {__version__} reads (format {FORMAT_VERSION}); "
            "upgrade with `pip install -U arabictopics`, or retrain the model with this version."
        )
    if fmt < MIN_FORMAT_VERSION:
        raise ModelError(
            f"{path} uses model format {fmt}, older than this version supports ({MIN_FORMAT_VERSION}); "
            "retrain it with `arabictopics train`."
        )
    saved, installed = str(meta["sklearn_version"]), _installed_sklearn_version()
    if _major_minor(saved) != _major_minor(installed):
        raise ModelError(
            f"{path} was saved with scikit-learn {saved} but {installed} is installed; pickled models are only "
            f"safe within one scikit-learn minor version. Install scikit-learn=={saved} or retrain the model "
            "with `arabictopics train`."
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
    """Read a model file's metadata without unpickling anything.

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


def _read_member(zf: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes:
    """Member ``name``, read only if its declared size is within ``limit``,
    and streamed so that it never yields more (a zip bomb that lies about
    its size is stopped at the limit)."""
    info = zf.getinfo(name)  # KeyError: no such member
    if info.file_size > limit:
        raise ModelError(
            f"{path}: {name} declares {info.file_size} bytes, more than a model holds ({limit}); the file is "
            "damaged or was crafted; it was not loaded."
        )
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ModelError(f"{path}: {name} holds more than {limit} bytes; the file is damaged; it was not loaded.")
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


def load_model(path: str | os.PathLike[str] | None = None) -> Any:
    """Load a model file, checking it before anything is unpickled.

    Checks, in order: the file is a model container; its metadata is
    complete; its format is one this version reads; it was saved with the
    installed scikit-learn minor version; the payload's sha256 matches the
    metadata (and, for the shipped model, the sha256 pinned in the code).
    Only then is the payload unpickled, and the result must be a
    :class:`~arabictopics.model.TopicModel` whose themes and thresholds
    match the metadata.

    Parameters
    ----------
    path : str or path-like, optional
        A ``.atm`` file.  Omitted: the shipped default model, loaded once
        per process and cached.

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
    return _load(Path(path))


def verify_model(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Run every check of :func:`load_model` except unpickling.

    Cheap (no scikit-learn import): use it to fail early on a bad model
    file before handing its path to worker processes that load it.

    Parameters
    ----------
    path : str or path-like, optional
        Model file; the shipped model when omitted.

    Returns
    -------
    dict
        The model's metadata.

    Raises
    ------
    ModelError
    """
    if path is None:
        return _verified_payload(default_model_path(), DEFAULT_MODEL_SHA256)[0]
    return _verified_payload(Path(path))[0]


def _verified_payload(path: Path, pinned: str | None = None) -> tuple[dict[str, Any], bytes]:
    with _open(path) as zf:  # opened once: metadata checked before the payload is read
        meta = _check_metadata(_read_metadata(zf, path), path)
        expected = meta.get("payload_bytes")
        limit = expected if isinstance(expected, int) and 0 <= expected <= MAX_PAYLOAD_BYTES else MAX_PAYLOAD_BYTES
        try:
            payload = _read_member(zf, _PAYLOAD, limit, path)
        except ModelError:
            raise
        except KeyError:
            raise ModelError(f"{path} has no {_PAYLOAD}; the file is damaged: retrain it.") from None
        except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError, ...
            raise ModelError(f"{path} is damaged ({exc}); retrain it or restore it from a copy.") from None
    digest = _sha256(payload)
    if digest != meta["payload_sha256"] or (pinned and digest != pinned):
        raise ModelError(
            f"{path} failed its checksum (sha256 {digest[:12]}… expected "
            f"{(pinned or meta['payload_sha256'])[:12]}…): the file is corrupted or was altered. "
            "Restore it from a trusted copy or retrain it; it was not loaded."
        )
    return meta, payload


def _load(path: Path, pinned: str | None = None) -> Any:
    meta, payload = _verified_payload(path, pinned)
    import joblib

    try:
        model = joblib.load(io.BytesIO(payload))
    except Exception as exc:  # unpickling raises anything: report it as ours
        raise ModelError(f"{path} could not be unpickled ({type(exc).__name__}: {exc}); retrain it.") from None
    from .model import TopicModel

    if not isinstance(model, TopicModel):
        raise ModelError(
            f"{path} holds a {type(model).__name__}, not a TopicModel; it was not written by arabictopics."
        )
    if hasattr(model, "classes_") and not hasattr(model, "passages_"):
        raise ModelError(
            f"{path} was trained by an arabictopics version without the two-level answer (no passage layer, "
            f"library version {meta.get('library_version', '?')}); retrain it from its data with "
            "`arabictopics train DATA -o MODEL`."
        )
    try:
        labels = [str(label) for label in model.classes_]
        thresholds = [round(float(t), 6) for t in model.thresholds_]
    except (AttributeError, TypeError, ValueError):
        raise ModelError(f"{path} holds an unfitted or damaged TopicModel; retrain it.") from None
    if labels != meta["labels"] or thresholds != [round(float(t), 6) for t in meta["thresholds"]]:
        raise ModelError(f"{path} metadata does not match its model (labels or thresholds differ); retrain it.")
    model.metadata_ = meta
    return model
