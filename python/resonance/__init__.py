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

Application tables live in the same file, through the engine's connection (docs/sql.md)::

    db.executescript("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, node TEXT, body TEXT)")
    r = db.execute("INSERT INTO notes(node, body) VALUES (?, ?)", ("docs-readme", "hi"))
    print(r.rowcount, r.lastrowid)                        # like sqlite3.Cursor's attributes
    db.executemany("INSERT INTO notes(node, body) VALUES (:node, :body)", [{"node": "a", "body": "b"}])
    for row in db.query("SELECT id, body FROM notes WHERE node = ?", ("a",)):
        print(row[0], row["body"])                        # a Row works like sqlite3.Row
    one = db.query_one("SELECT count(*) AS n FROM notes")  # a Row, or None

Parameters are a tuple/list (``?``, ``?NNN``) or a dict/mapping (``:name``, ``@name``, ``$name``; keys
with or without the prefix); values are None, bool (stored as 0/1), int (64-bit), float, str and
bytes/bytearray/memoryview (a blob); anything else raises :class:`InvalidArgumentError` naming the
parameter. Results are None, int, float, str or bytes, as stored. Statements run under the engine's
authorizer: DDL on the engine's tables, writes to ``nodes``/``edges``/``history`` (unless
``allow_engine_writes=True``), ``ATTACH``, transaction statements (use ``with db.transaction():``, which
application SQL joins) and PRAGMAs that would change the connection's settings raise
:class:`InvalidArgumentError`; a write on a read-only handle raises :class:`ReadonlyError`. A writing
statement outside ``db.transaction()`` runs in its own transaction; ``executemany`` and
``executescript`` run all their statements in one. ``query``, ``executemany`` and ``executescript``
are long calls (Ctrl-C stops them, as above); ``execute`` and ``query_one`` are short ones like
``upsert_node``: ``db.interrupt()`` stops them, Ctrl-C is seen when they return.

Application migrations (docs/sql.md) version the application's own tables under a namespace::

    db.migrate_app("notes", "migrations/")       # 0001_init.sql, 0002_tags.sql ... ("-- down" sections)
    db.migrate_app("notes", [resonance.AppMigration(1, "init", "CREATE TABLE notes(id INTEGER PRIMARY KEY)")])
    db.migrate_app("notes", "migrations/", to=1, allow_destructive=True)   # down to version 1
    print(db.app_migration_status("notes", "migrations/").pending)

Steps are ``AppMigration`` objects or dicts with ``version``, ``name``, ``up``, ``down``,
``destructive``. A destructive step raises :class:`DestructiveRefusedError` unless
``allow_destructive=True``; an applied step whose text changed raises :class:`SchemaTooNewError`
unless ``accept_changed=True``. ``migrate_app`` is a long call (Ctrl-C stops it).
"""

from __future__ import annotations

import os as _os
from typing import Any, Literal, Mapping, Optional, Sequence, Union

from . import _native
from ._native import (
    AppMigration,
    AppMigrationReport,
    AppMigrationStatus,
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
    ExecuteResult,
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
    Row,
    SchemaTooNewError,
    SchemaUnknownError,
    SqliteError,
    Stats,
    StatsSnapshot,
    StatsValidation,
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
    "StatsSnapshot",
    "StatsValidation",
    "Checkpoint",
    "GraphStats",
    "Communities",
    "LinkCandidate",
    "Pillar",
    "HealthReport",
    "MigrationReport",
    "Row",
    "ExecuteResult",
    "AppMigration",
    "AppMigrationReport",
    "AppMigrationStatus",
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
    allow_engine_writes: Optional[bool] = None,
    statement_cache_size: Optional[int] = None,
    app_migrations: Optional[
        Mapping[str, Union[str, "_os.PathLike[str]", Sequence[Union[AppMigration, Mapping[str, Any]]]]]
    ] = None,
    external_replicator: Optional[bool] = None,
    vector_memory: Optional[Literal["matrix", "codes"]] = None,
) -> Database:
    """Opens (creating if needed) the Resonance database at ``path``.

    The connection is hardened (WAL, ``busy_timeout``, ``foreign_keys``…), the file's schema is
    recognised (an unknown one raises :class:`SchemaUnknownError` and is left untouched), and, when
    ``migrate``, adopted and migrated after a checked backup (``backup``). A ``read_only`` handle needs
    an existing WAL database at the current schema. Use it as a context manager to close it.
    ``open_timeout_ms`` bounds the open (recognition, backup, migrations) in time: past it the open
    raises ``resonance.InterruptedError`` and a migration it ran is rolled back (0: no limit).
    ``allow_engine_writes`` lets application SQL (``db.execute``…) write ``nodes``/``edges``/``history``
    (for a compatibility layer; the handle's caches are dropped after each such write);
    ``statement_cache_size`` is how many compiled statements the connection keeps. ``None`` leaves
    either at the engine's default (off; docs/sql.md). ``app_migrations`` maps a namespace to its
    application migrations (a directory of ``NNNN_name.sql`` files or a list of steps, as
    :meth:`Database.migrate_app` takes them), applied when a read-write handle opens, with this
    call's ``allow_destructive`` and ``backup``. ``external_replicator`` declares that another
    program (Litestream…) replicates the file: restart/truncate checkpoints and ``vacuum()`` then
    raise :class:`InvalidArgumentError` (off by default; docs/scaling.md). ``vector_memory`` is what
    the handle keeps in memory for vector search: ``"matrix"`` (the f32 rows) or ``"codes"`` (only the
    int8 codes, about a quarter of the memory; the f32 rows a search rescores are read from the file;
    the same results; docs/vectors.md, "Bounded memory").
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
        allow_engine_writes=allow_engine_writes,
        statement_cache_size=statement_cache_size,
        app_migrations=app_migrations,
        external_replicator=external_replicator,
        vector_memory=vector_memory,
    )
