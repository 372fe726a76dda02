"""Resonance: an embedded storage engine for local-first knowledge graphs with embeddings.

One SQLite file holds "hollow" nodes (metadata and one embedding, never document content), typed
weighted edges and an audit history. Open it with :func:`open`::

    import numpy as np
    import resonance

    with resonance.open("memory/.amalfa/resonance.db") as db:
        db.upsert_node("docs-readme", type="doc", meta={"tags": ["a"]},
                       embedding=np.random.rand(384).astype(np.float32))
        for hit in db.search(np.random.rand(384).astype(np.float32), k=5):
            print(hit.id, hit.score)

Vectors are numpy ``float32`` arrays, read in place (1-D, or 2-D ``(n, dim)`` for batches, C-contiguous).
Any other float32 buffer (``array.array('f')``, ``memoryview``) is read through a numpy view; Python
lists are accepted but copied (slower). Any other dtype or layout raises :class:`InvalidArgumentError`
(convert with ``arr.astype(np.float32)`` / ``np.ascontiguousarray``) — nothing is converted silently.

Every error is a :class:`Error` subclass with a stable ``code`` (design §9). Every call that touches
SQLite, the vector matrix or the graph runs with the GIL released; a handle may be shared between
threads. After ``os.fork()`` a handle opened by the parent raises :class:`ClosedError` in the child:
open the database again there.
"""

from __future__ import annotations

import os as _os
from typing import Union

from . import _native
from ._native import (
    BusyError,
    Checkpoint,
    ClosedError,
    Communities,
    ConstraintError,
    CorruptError,
    Database,
    DestructiveRefusedError,
    DimensionMismatchError,
    Edge,
    Error,
    GraphStats,
    HealthReport,
    HistoryEntry,
    Hit,
    InternalError,
    InvalidArgumentError,
    InvalidVectorError,
    IoError,
    MigrationFailedError,
    MigrationReport,
    Node,
    NotADatabaseError,
    NotFoundError,
    ReadonlyError,
    SchemaTooNewError,
    SchemaUnknownError,
    SqliteError,
    Stats,
    Transaction,
    error_codes,
    generate_id,
)

__version__: str = _native.__version__

__all__ = [
    "open",
    "generate_id",
    "error_codes",
    "Database",
    "Transaction",
    "Node",
    "Edge",
    "Hit",
    "HistoryEntry",
    "Stats",
    "Checkpoint",
    "GraphStats",
    "Communities",
    "HealthReport",
    "MigrationReport",
    "Error",
    "InvalidArgumentError",
    "InvalidVectorError",
    "DimensionMismatchError",
    "NotFoundError",
    "BusyError",
    "ReadonlyError",
    "CorruptError",
    "NotADatabaseError",
    "ConstraintError",
    "SchemaUnknownError",
    "SchemaTooNewError",
    "MigrationFailedError",
    "DestructiveRefusedError",
    "ClosedError",
    "IoError",
    "SqliteError",
    "InternalError",
]


def open(
    path: Union[str, "_os.PathLike[str]"],
    *,
    read_only: bool = False,
    migrate: bool = True,
    allow_destructive: bool = False,
    backup: bool = True,
    busy_timeout_ms: int = 5000,
    backup_retention_days: int = 7,
) -> Database:
    """Opens (creating if needed) the Resonance database at ``path``.

    The connection is hardened (WAL, ``busy_timeout``, ``foreign_keys``…), the file's schema is
    recognised (an unknown one raises :class:`SchemaUnknownError` and is left untouched), and, when
    ``migrate``, adopted and migrated after a checked backup (``backup``). A ``read_only`` handle needs
    an existing WAL database at the current schema. Use it as a context manager to close it.
    """
    return _native.open(
        path,
        read_only=read_only,
        migrate=migrate,
        allow_destructive=allow_destructive,
        backup=backup,
        busy_timeout_ms=busy_timeout_ms,
        backup_retention_days=backup_retention_days,
    )
