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

Every error is a :class:`Error` subclass with a stable ``code`` (docs/errors.md). Every call that touches
SQLite, the vector matrix or the graph runs with the GIL released; a handle may be shared between
threads. After ``os.fork()`` a handle opened by the parent raises :class:`ClosedError` in the child:
open the database again there.

Long calls (graph analytics, ``search_batch``, bulk writes, ``migrate``, ``backup``, opening a file
that needs migrating) stop within milliseconds of Ctrl-C and raise ``KeyboardInterrupt``; a write
they were making is rolled back and the handle stays usable. ``db.interrupt()``, from any thread,
stops whatever runs on the handle; the stopped call raises ``resonance.InterruptedError``. That class
is a :class:`Error` like every other kind, not the builtin ``InterruptedError`` (an ``OSError`` meaning
"a system call saw EINTR, retry it"): an ``except OSError`` must not swallow it, and a retry would be
wrong. For the same reason it is left out of ``__all__``, so ``from resonance import *`` does not
shadow the builtin; write ``resonance.InterruptedError``.
"""

from __future__ import annotations

import os as _os
from typing import Optional, Union

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
    InterruptedError,
    InvalidArgumentError,
    InvalidVectorError,
    IoError,
    LinkCandidate,
    MigrationFailedError,
    MigrationReport,
    Node,
    NotADatabaseError,
    NotFoundError,
    Pillar,
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
    "LinkCandidate",
    "Pillar",
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
    read_only: Optional[bool] = None,
    migrate: Optional[bool] = None,
    allow_destructive: Optional[bool] = None,
    backup: Optional[bool] = None,
    busy_timeout_ms: Optional[int] = None,
    backup_retention_days: Optional[int] = None,
    open_timeout_ms: Optional[int] = None,
) -> Database:
    """Opens (creating if needed) the Resonance database at ``path``.

    The connection is hardened (WAL, ``busy_timeout``, ``foreign_keys``…), the file's schema is
    recognised (an unknown one raises :class:`SchemaUnknownError` and is left untouched), and, when
    ``migrate``, adopted and migrated after a checked backup (``backup``). A ``read_only`` handle needs
    an existing WAL database at the current schema. Use it as a context manager to close it.
    ``open_timeout_ms`` bounds the open (recognition, backup, migrations) in time: past it the open
    raises ``resonance.InterruptedError`` and a migration it ran is rolled back (0: no limit).
    An option left out (or ``None``) is the engine's default: read-write, migrate with a backup
    (no destructive steps), the engine's busy timeout, backup retention and open timeout.
    """
    return _native.open(
        path,
        read_only=read_only,
        migrate=migrate,
        allow_destructive=allow_destructive,
        backup=backup,
        busy_timeout_ms=busy_timeout_ms,
        backup_retention_days=backup_retention_days,
        open_timeout_ms=open_timeout_ms,
    )
