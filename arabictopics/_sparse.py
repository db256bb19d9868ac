"""Sparse feature rows with numpy alone: the few operations scoring needs.

Importing :mod:`scipy.sparse` costs about 0.12 s (most of it SciPy's
array-API layer), a third of a one-article run of the command line and
again in every worker started afresh.  Scoring needs only this: count token
ids over ranges of a token sequence, weigh the counts, stack rows, and take
the product with a dense weight matrix.  :class:`Rows` holds the CSR arrays
(``data``, ``indices``, ``indptr``, ``shape``, the names SciPy uses, so code
reading them serves both); :meth:`Rows.to_scipy` hands a SciPy matrix to
training and to the estimators' public ``transform``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Rows", "count_ranges", "hstack"]


@dataclass
class Rows:
    """A CSR matrix: row ``r`` holds ``data[indptr[r]:indptr[r + 1]]`` in the
    columns ``indices[indptr[r]:indptr[r + 1]]``, sorted and distinct.

    Examples
    --------
    >>> X = count_ranges(np.array([3, 1, 3, 0]), np.array([0, 2]), np.array([3, 4]), n_cols=4)
    >>> X.indices.tolist(), X.data.tolist(), X.indptr.tolist()
    ([1, 3, 0, 3], [1.0, 2.0, 1.0, 1.0], [0, 2, 4])
    >>> (X @ np.eye(4)).tolist()
    [[0.0, 1.0, 0.0, 2.0], [1.0, 0.0, 0.0, 1.0]]
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_matrix(cls, X: Any) -> Rows:
        """From a SciPy sparse matrix (or a :class:`Rows`, returned as is)."""
        if isinstance(X, Rows):
            return X
        X = X.tocsr()
        if not X.has_canonical_format:  # sorted, distinct columns; the caller's matrix is left as it is
            X = X.copy()
            X.sum_duplicates()
        return cls(
            np.asarray(X.data, dtype=np.float64),
            X.indices.astype(np.int64),
            X.indptr.astype(np.int64),
            (int(X.shape[0]), int(X.shape[1])),
        )

    @classmethod
    def empty(cls, n_rows: int, n_cols: int) -> Rows:
        """``n_rows`` rows with nothing stored (all zeros)."""
        return cls(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(n_rows + 1, dtype=np.int64), (n_rows, n_cols))

    def to_scipy(self) -> Any:
        """The same matrix as a ``scipy.sparse.csr_matrix`` (imports SciPy)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices.astype(np.int32), self.indptr), shape=self.shape)

    def copy(self) -> Rows:
        return Rows(self.data.copy(), self.indices, self.indptr, self.shape)

    @property
    def nnz(self) -> int:
        return len(self.data)

    def rows(self, start: int, stop: int) -> Rows:
        """Rows ``start`` to ``stop - 1`` (views of these arrays, no copy)."""
        a, b = self.indptr[start], self.indptr[stop]
        return Rows(self.data[a:b], self.indices[a:b], self.indptr[start : stop + 1] - a, (stop - start, self.shape[1]))

    def row_lengths(self) -> np.ndarray:
        """Stored entries per row."""
        return np.diff(self.indptr)

    def row_ids(self) -> np.ndarray:
        """The row of every stored entry."""
        return np.repeat(np.arange(self.shape[0]), self.row_lengths())

    def __matmul__(self, other: Any) -> np.ndarray:
        """``self @ other`` for a dense ``other`` of shape (n_cols, k) or (n_cols,)."""
        other = np.asarray(other)
        if other.shape[0] != self.shape[1]:
            raise ValueError(f"matmul: {self.shape[1]} columns against {other.shape[0]} rows")
        flat = other.ndim == 1
        weights = np.ascontiguousarray(other.reshape(self.shape[1], -1), dtype=np.float64)
        out = np.zeros((self.shape[0], weights.shape[1]))
        lengths = self.row_lengths()
        has = lengths > 0
        if has.any():
            products = weights[self.indices] * self.data[:, None]
            out[has] = np.add.reduceat(products, self.indptr[:-1][has], axis=0)
        return out[:, 0] if flat else out


def count_ranges(ids: np.ndarray, starts: np.ndarray, stops: np.ndarray, n_cols: int) -> Rows:
    """Row ``r`` counts the ids in ``ids[starts[r]:stops[r]]``; ranges may overlap.

    Parameters
    ----------
    ids : ndarray of int, values in ``[0, n_cols)``
    starts, stops : ndarray of int, one pair per row
    n_cols : int

    Returns
    -------
    Rows
        Counts as floats, columns sorted within each row.
    """
    ids = np.asarray(ids, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(stops, dtype=np.int64) - starts
    n_rows, total = len(starts), int(lengths.sum())
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    row = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    keys = np.sort(row * max(n_cols, 1) + ids[np.arange(total, dtype=np.int64) + offsets])
    first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if total else np.zeros(0, np.int64)
    counts = np.diff(np.append(first, total)).astype(np.float64)
    distinct = keys[first]
    rows_of = distinct // max(n_cols, 1)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows_of, minlength=n_rows), out=indptr[1:])
    return Rows(counts, distinct % max(n_cols, 1), indptr, (n_rows, n_cols))


def hstack(left: Rows, right: Rows) -> Rows:
    """Each row of ``left`` followed by the same row of ``right`` (columns shifted)."""
    if left.shape[0] != right.shape[0]:
        raise ValueError("hstack: blocks of different heights")
    n_left = left.row_lengths()
    indptr = left.indptr + right.indptr
    data = np.empty(left.nnz + right.nnz)
    indices = np.empty(left.nnz + right.nnz, dtype=np.int64)
    at_left = np.arange(left.nnz) + np.repeat(right.indptr[:-1], n_left)
    at_right = np.arange(right.nnz) + np.repeat(left.indptr[1:], right.row_lengths())
    data[at_left], indices[at_left] = left.data, left.indices
    data[at_right], indices[at_right] = right.data, right.indices + left.shape[1]
    return Rows(data, indices, indptr, (left.shape[0], left.shape[1] + right.shape[1]))
