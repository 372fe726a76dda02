"""Type stubs of the native module ``resonance._native`` (checked against it by mypy's stubtest)."""

import os
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, final, ClassVar, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = [
    "AppMigration",
    "AppMigrationReport",
    "AppMigrationStatus",
    "BusyError",
    "Checkpoint",
    "ClosedError",
    "Communities",
    "ConstraintError",
    "CorruptError",
    "Database",
    "DestructiveRefusedError",
    "DimensionMismatchError",
    "Edge",
    "Error",
    "ExecuteResult",
    "GraphStats",
    "HealthReport",
    "HistoryEntry",
    "Hit",
    "InternalError",
    "InterruptedError",
    "InvalidArgumentError",
    "InvalidVectorError",
    "IoError",
    "LinkCandidate",
    "MigrationFailedError",
    "MigrationReport",
    "Node",
    "NotADatabaseError",
    "NotFoundError",
    "Pillar",
    "ReadonlyError",
    "Row",
    "SchemaTooNewError",
    "SchemaUnknownError",
    "SqliteError",
    "Stats",
    "StatsSnapshot",
    "StatsValidation",
    "Transaction",
    "__version__",
    "_matrix_address",
    "_panic_in_engine",
    "_raise_engine_error",
    "_vector_address",
    "error_codes",
    "generate_id",
    "open",
]

_Vector = Union[npt.NDArray[np.float32], Sequence[float], memoryview, Any]
_Matrix = Union[npt.NDArray[np.float32], Sequence[Sequence[float]], Any]
_Path = Union[str, "os.PathLike[str]"]
_SqlValue = Union[None, int, float, str, bytes]
_SqlParam = Union[None, bool, int, float, str, bytes, bytearray, memoryview]
_SqlParams = Union[Sequence[_SqlParam], Mapping[str, _SqlParam]]
_Direction = Literal["outgoing", "incoming", "both"]
_Edge = Union[Mapping[str, Any], Tuple[str, str], Tuple[str, str, str]]

class Error(Exception):
    """Base class of every Resonance error; ``code`` is the stable kind code of the subclass."""

    code: ClassVar[str]

class InvalidArgumentError(Error, ValueError): ...
class InvalidVectorError(Error, ValueError): ...

class DimensionMismatchError(Error, ValueError):
    expected: int
    got: int

class NotFoundError(Error, LookupError): ...
class BusyError(Error): ...
class ReadonlyError(Error): ...
class CorruptError(Error): ...
class NotADatabaseError(Error): ...
class ConstraintError(Error): ...
class SchemaUnknownError(Error): ...
class SchemaTooNewError(Error): ...
class MigrationFailedError(Error): ...
class DestructiveRefusedError(Error): ...
class ClosedError(Error): ...
class IoError(Error): ...

class SqliteError(Error):
    extended_code: int

class InternalError(Error): ...

class InterruptedError(Error):
    """A call stopped by ``db.interrupt()``; the handle stays usable. Not the builtin
    ``InterruptedError`` (an ``OSError`` for EINTR): Ctrl-C raises ``KeyboardInterrupt``."""

@final
class Node:
    """A stored node (frozen). ``meta`` is parsed from ``meta_json`` on first access. Pickles and
    compares by value; unhashable (``meta`` is a dict, ``embedding`` an array)."""

    def __new__(
        cls,
        id: str,
        type: Optional[str] = None,
        title: Optional[str] = None,
        domain: Optional[str] = None,
        layer: Optional[str] = None,
        hash: Optional[str] = None,
        summary: Optional[str] = None,
        meta_json: Optional[str] = None,
        date: Optional[str] = None,
        embedding: Optional[_Vector] = None,
    ) -> "Node": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> Optional[str]: ...
    @property
    def title(self) -> Optional[str]: ...
    @property
    def domain(self) -> Optional[str]: ...
    @property
    def layer(self) -> Optional[str]: ...
    @property
    def hash(self) -> Optional[str]: ...
    @property
    def summary(self) -> Optional[str]: ...
    @property
    def meta(self) -> Any: ...
    @property
    def meta_json(self) -> Optional[str]: ...
    @property
    def date(self) -> Optional[str]: ...
    @property
    def embedding(self) -> Optional[npt.NDArray[np.float32]]: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class Edge:
    """An edge (frozen). Pickles, compares and hashes by value."""

    def __new__(
        cls,
        source: str,
        target: str,
        type: str,
        confidence: Optional[float] = None,
        veracity: Optional[float] = None,
        context_source: Optional[str] = None,
    ) -> "Edge": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    def __hash__(self) -> int: ...

    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def confidence(self) -> Optional[float]: ...
    @property
    def veracity(self) -> Optional[float]: ...
    @property
    def context_source(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...

class Hit(NamedTuple):
    """A search result: a typed pair (``id, score = hit``, ``hit[0]``, ``hit.score``) that compares,
    hashes and pickles by value."""

    id: str
    score: float

@final
class LinkCandidate:
    """A suggested edge and its Adamic-Adar index; unpacks as ``source, target, score = c``."""

    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def score(self) -> float: ...
    def __iter__(self) -> Iterator[Union[str, float]]: ...
    def __len__(self) -> int: ...

@final
class Pillar:
    """A top PageRank node with its degree; unpacks as ``id, pagerank, degree = p``."""

    @property
    def id(self) -> str: ...
    @property
    def pagerank(self) -> float: ...
    @property
    def degree(self) -> int: ...
    def __iter__(self) -> Iterator[Union[str, float, int]]: ...
    def __len__(self) -> int: ...

@final
class HistoryEntry:
    """A history row; ``old_value``/``new_value`` are parsed from JSON. Pickles and compares by
    value; unhashable (the values may be dicts)."""

    def __new__(
        cls,
        id: int,
        entity_type: str,
        entity_id: str,
        action: str,
        old_value: Any,
        new_value: Any,
        timestamp: Optional[str],
    ) -> "HistoryEntry": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

    @property
    def id(self) -> int: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def old_value(self) -> Any: ...
    @property
    def new_value(self) -> Any: ...
    @property
    def timestamp(self) -> Optional[str]: ...

@final
class Stats:
    def __new__(cls, fields: Dict[str, Any]) -> "Stats": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    nodes: int
    edges: int
    vectors: int
    dangling_edges: int
    dimension: Optional[int]
    history: int
    db_bytes: int
    wal_bytes: int
    size_bytes: int
    def to_dict(self) -> Dict[str, Any]: ...

@final
class Checkpoint:
    def __new__(cls, fields: Dict[str, Any]) -> "Checkpoint": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    busy: int
    log: int
    checkpointed: int
    def to_dict(self) -> Dict[str, Any]: ...

@final
class GraphStats:
    def __new__(cls, fields: Dict[str, Any]) -> "GraphStats": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    nodes: int
    edges: int
    density: float
    skipped_edges: int
    def to_dict(self) -> Dict[str, Any]: ...

@final
class Communities:
    def __new__(cls, fields: Dict[str, Any]) -> "Communities": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    partition: Dict[str, int]
    modularity: float
    def to_dict(self) -> Dict[str, Any]: ...

@final
class StatsSnapshot:
    def __new__(cls, fields: Dict[str, Any]) -> "StatsSnapshot": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    id: Optional[int]
    recorded_at: str
    nodes: int
    edges: int
    vectors: int
    dangling_edges: int
    dimension: Optional[int]
    history: int
    db_bytes: int
    wal_bytes: int
    label: Optional[str]
    meta: Optional[str]
    def to_dict(self) -> Dict[str, Any]: ...

@final
class StatsValidation:
    def __new__(cls, fields: Dict[str, Any]) -> "StatsValidation": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    errors: List[Dict[str, str]]
    warnings: List[Dict[str, str]]
    snapshot: Optional[Dict[str, Any]]
    previous: Optional[Dict[str, Any]]
    passed: bool
    def to_dict(self) -> Dict[str, Any]: ...

@final
class HealthReport:
    def __new__(cls, fields: Dict[str, Any]) -> "HealthReport": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    path: str
    read_only: bool
    journal_mode: str
    busy_timeout_ms: int
    synchronous: str
    mmap_size: int
    foreign_keys: bool
    temp_store: str
    cache_size: int
    query_only: bool
    sqlite_version: str
    quick_check: str
    schema: Dict[str, Any]
    vectors: Dict[str, Any]
    nodes: int
    edges: int
    dangling_edges: int
    write_probe: str
    problems: List[str]
    content: List[str]
    stats: Dict[str, Any]
    external_replicator: bool
    litestream_seen: bool
    def to_dict(self) -> Dict[str, Any]: ...

@final
class MigrationReport:
    def __new__(cls, fields: Dict[str, Any]) -> "MigrationReport": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    shape_before: str
    steps: List[Dict[str, Any]]
    dry_run: bool
    backup: Optional[str]
    warnings: List[str]
    def to_dict(self) -> Dict[str, Any]: ...

@final
class AppMigration:
    """One application migration step (docs/sql.md, "Application migrations")."""

    def __new__(
        cls,
        version: int,
        name: str,
        up: str,
        down: Optional[str] = None,
        destructive: Optional[bool] = None,
    ) -> "AppMigration": ...
    @property
    def version(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def up(self) -> str: ...
    @property
    def down(self) -> Optional[str]: ...
    @property
    def destructive(self) -> bool: ...
    def checksum(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

_AppSteps = Union[_Path, Sequence[Union[AppMigration, Mapping[str, Any]]]]

@final
class AppMigrationReport:
    def __new__(cls, fields: Dict[str, Any]) -> "AppMigrationReport": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    namespace: str
    dry_run: bool
    steps: List[Dict[str, Any]]
    backup: Optional[str]
    accepted_changes: List[int]
    def to_dict(self) -> Dict[str, Any]: ...

@final
class AppMigrationStatus:
    def __new__(cls, fields: Dict[str, Any]) -> "AppMigrationStatus": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    namespace: str
    applied: List[Dict[str, Any]]
    pending: List[Dict[str, Any]]
    def to_dict(self) -> Dict[str, Any]: ...

@final
class ExecuteResult:
    """What ``db.execute`` / ``db.executemany`` did (named like ``sqlite3.Cursor``'s attributes)."""

    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

@final
class Row:
    """One row of a query: a tuple of values also readable by column name, like ``sqlite3.Row``."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: Union[int, str], /) -> _SqlValue: ...
    @overload
    def __getitem__(self, key: slice, /) -> Tuple[_SqlValue, ...]: ...
    def __iter__(self) -> Iterator[_SqlValue]: ...
    def __contains__(self, key: object, /) -> bool: ...
    def keys(self) -> List[str]: ...
    def as_tuple(self) -> Tuple[_SqlValue, ...]: ...
    def to_dict(self) -> Dict[str, _SqlValue]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Transaction:
    """``with db.transaction():`` — commit on a clean exit, rollback on an exception."""

    def __enter__(self) -> "Database": ...
    def __exit__(self, exc_type: Any = None, _exc: Any = None, _tb: Any = None) -> bool: ...

@final
class Database:
    """An open Resonance database; share it between threads. Use ``resonance.open`` to create one."""

    @property
    def path(self) -> Path: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def in_transaction(self) -> bool: ...
    @property
    def warnings(self) -> List[str]: ...
    def close(self) -> None: ...
    def interrupt(self) -> None: ...
    def __enter__(self) -> "Database": ...
    def __exit__(self, *_args: Any) -> bool: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def transaction(self) -> Transaction: ...
    def execute(self, sql: str, params: Optional[_SqlParams] = None) -> ExecuteResult: ...
    def executemany(self, sql: str, seq_of_params: Iterable[_SqlParams]) -> ExecuteResult: ...
    def executescript(self, script: str) -> None: ...
    def query(self, sql: str, params: Optional[_SqlParams] = None) -> List[Row]: ...
    def query_one(self, sql: str, params: Optional[_SqlParams] = None) -> Optional[Row]: ...
    def upsert_node(
        self,
        id: str,
        *,
        type: Optional[str] = None,
        title: Optional[str] = None,
        domain: Optional[str] = None,
        layer: Optional[str] = None,
        hash: Optional[str] = None,
        summary: Optional[str] = None,
        meta: Any = None,
        date: Optional[str] = None,
        embedding: Optional[_Vector] = None,
    ) -> None: ...
    def upsert_nodes(
        self, nodes: Sequence[Mapping[str, Any]], embeddings: Optional[_Matrix] = None
    ) -> int: ...
    def get_node(self, id: str, *, with_embedding: Optional[bool] = None) -> Optional[Node]: ...
    def list_nodes(
        self,
        *,
        domain: Optional[str] = None,
        type: Optional[str] = None,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        with_embeddings: Optional[bool] = None,
    ) -> List[Node]: ...
    def delete_node(self, id: str) -> None: ...
    def update_node(
        self,
        id: str,
        *,
        type: Optional[str] = ...,
        title: Optional[str] = ...,
        domain: Optional[str] = ...,
        layer: Optional[str] = ...,
        hash: Optional[str] = ...,
        summary: Optional[str] = ...,
        meta: Any = ...,
        date: Optional[str] = ...,
        embedding: Optional[_Vector] = ...,
    ) -> None: ...
    def merge_meta(self, id: str, patch: Any) -> None: ...
    def update_meta(self, id: str, meta: Any) -> None: ...
    def history(self, entity_id: str) -> List[HistoryEntry]: ...
    def prune_history(
        self, *, older_than_days: Optional[int] = None, keep_last: Optional[int] = None
    ) -> int: ...
    def stats(self) -> Stats: ...
    def record_stats(
        self, label: Optional[str] = None, meta: Any = None, *, keep: Optional[int] = None
    ) -> StatsSnapshot: ...
    def stats_history(self, limit: Optional[int] = None) -> List[StatsSnapshot]: ...
    def validate_stats(
        self,
        *,
        min_edge_density: Optional[float] = None,
        min_embedding_coverage: Optional[float] = None,
        max_shrink_ratio: Optional[float] = None,
        warn_no_growth: Optional[bool] = None,
    ) -> StatsValidation: ...
    def add_edge(
        self,
        source: str,
        target: str,
        type: Optional[str] = None,
        *,
        confidence: Optional[float] = None,
        veracity: Optional[float] = None,
        context_source: Optional[str] = None,
    ) -> bool: ...
    def add_edges(self, edges: Sequence[_Edge]) -> int: ...
    def upsert_edge(
        self,
        source: str,
        target: str,
        type: Optional[str] = None,
        *,
        confidence: Optional[float] = None,
        veracity: Optional[float] = None,
        context_source: Optional[str] = None,
    ) -> None: ...
    def delete_edge(self, source: str, target: str, type: Optional[str] = None) -> None: ...
    def edges_from(self, id: str) -> List[Edge]: ...
    def edges_to(self, id: str) -> List[Edge]: ...
    def set_embedding(self, id: str, vector: _Vector) -> None: ...
    def get_embedding(self, id: str) -> Optional[npt.NDArray[np.float32]]: ...
    def search(
        self,
        vector: _Vector,
        k: Optional[int] = None,
        *,
        min_score: Optional[float] = None,
        domain: Optional[str] = None,
        type: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> List[Hit]: ...
    def search_like(
        self,
        id: str,
        k: Optional[int] = None,
        *,
        min_score: Optional[float] = None,
        domain: Optional[str] = None,
        type: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> List[Hit]: ...
    def search_batch(
        self,
        vectors: _Matrix,
        k: Optional[int] = None,
        *,
        min_score: Optional[float] = None,
        domain: Optional[str] = None,
        type: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> Tuple[npt.NDArray[np.object_], npt.NDArray[np.float32]]: ...
    def vector_index_info(self) -> Dict[str, Any]: ...
    def neighbors(self, id: str) -> List[str]: ...
    def successors(self, id: str) -> List[str]: ...
    def predecessors(self, id: str) -> List[str]: ...
    def degree(self, id: str) -> int: ...
    def traverse(
        self, start: str, max_depth: Optional[int] = None, *, direction: Optional[_Direction] = None
    ) -> List[str]: ...
    def shortest_path(
        self, source: str, target: str, *, direction: Optional[_Direction] = None
    ) -> Optional[List[str]]: ...
    def pagerank(
        self,
        alpha: Optional[float] = None,
        tolerance: Optional[float] = None,
        max_iterations: Optional[int] = None,
    ) -> Dict[str, float]: ...
    def betweenness(
        self,
        normalized: Optional[bool] = None,
        sample: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> Dict[str, float]: ...
    def communities(
        self, resolution: Optional[float] = None, seed: Optional[int] = None
    ) -> Communities: ...
    def components(self) -> List[List[str]]: ...
    def adamic_adar(self, a: str, b: str) -> float: ...
    def link_candidates(self, limit: Optional[int] = None) -> List[LinkCandidate]: ...
    def pillars(self, limit: Optional[int] = None) -> List[Pillar]: ...
    def graph_stats(self) -> GraphStats: ...
    def health(self) -> HealthReport: ...
    def migrate(
        self,
        *,
        dry_run: Optional[bool] = None,
        allow_destructive: Optional[bool] = None,
        backup: Optional[bool] = None,
        backup_retention_days: Optional[int] = None,
    ) -> MigrationReport: ...
    def migrate_app(
        self,
        namespace: str,
        steps_or_dir: _AppSteps,
        *,
        to: Optional[int] = None,
        dry_run: Optional[bool] = None,
        allow_destructive: Optional[bool] = None,
        backup: Optional[bool] = None,
        accept_changed: Optional[bool] = None,
    ) -> AppMigrationReport: ...
    def app_migration_status(self, namespace: str, steps_or_dir: _AppSteps) -> AppMigrationStatus: ...
    def backup(self, dest: Optional[_Path] = None) -> Path: ...
    def checkpoint(
        self, mode: Optional[Literal["passive", "full", "restart", "truncate"]] = None
    ) -> Checkpoint: ...
    def optimize(self) -> None: ...
    def vacuum(self) -> None: ...

def open(
    path: _Path,
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
    app_migrations: Optional[Mapping[str, _AppSteps]] = None,
    external_replicator: Optional[bool] = None,
    vector_memory: Optional[Literal["matrix", "codes"]] = None,
) -> Database: ...
def generate_id(path: str) -> str: ...
def error_codes() -> List[str]: ...
