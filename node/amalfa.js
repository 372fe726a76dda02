'use strict';
// `resonance/amalfa`: the original application's storage API (`ResonanceDB`) over a Resonance
// handle, so an application written against it switches by changing one import (node/README.md,
// "The original application's API"). Every call is one of the handle's calls: the defaults (domain
// `knowledge`, layer `experience`, edge type `related_to`, confidence and veracity 1), the history
// rows, validation and vector rules are the core's; this file only maps names and shapes (`label` ⇄
// `title`, meta `{}` when empty, the bun:sqlite surface of `getRawDb()`). The handle is opened with
// `allowEngineWrites: true`, so raw SQL through `getRawDb()` may write `nodes` and `edges` as the
// original application did; the core drops its caches after such writes (docs/sql.md).
const fs = require('node:fs');
const resonance = require('./resonance.js');

function argError(msg) {
  const e = new TypeError(msg);
  e.code = 'invalid_argument';
  return e;
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkId(name, v) {
  if (typeof v !== 'string') throw argError(`${name} must be a string, got ${v === null ? 'null' : typeof v}`);
}

// A stored node (the handle's `Node`) in the original shape. `embedding` is present only when the
// node has one; `meta` is the parsed JSON, `{}` when there is none.
function toOriginal(n) {
  const out = {
    id: n.id,
    type: n.type,
    label: n.title,
    domain: n.domain,
    layer: n.layer,
    summary: n.summary,
    hash: n.hash,
    meta: n.meta ?? {},
    date: n.date,
  };
  if (n.embedding != null) out.embedding = n.embedding;
  return out;
}

// An edge (the handle's `Edge`) as a row of the original `edges` table.
function edgeRow(e) {
  return {
    source: e.source,
    target: e.target,
    type: e.type,
    confidence: e.confidence,
    veracity: e.veracity,
    context_source: e.contextSource,
  };
}

// A statement of `getRawDb()`: bun:sqlite's `Statement` surface (`get` returns `null` when there is
// no row, as bun:sqlite does) over the handle's `prepare`. Parameters are bun:sqlite's: positional
// as arguments or an array, named as one object whose keys carry their prefix (`{ $id: 1 }`); the
// handle also takes bare keys (`{ id: 1 }`, better-sqlite3's form).
class RawStatement {
  #stmt;
  constructor(stmt) {
    this.#stmt = stmt;
  }
  get(...args) {
    const row = this.#stmt.get(...args);
    return row === undefined ? null : row;
  }
  all(...args) {
    return this.#stmt.all(...args);
  }
  values(...args) {
    return this.#stmt.raw().all(...args);
  }
  run(...args) {
    return this.#stmt.run(...args);
  }
  get columnNames() {
    return this.#stmt.columns().map((c) => c.name);
  }
}

// `getRawDb()`: bun:sqlite's `Database` surface (`prepare`, `query`, `run`/`exec`) over the
// handle's application SQL.
class RawDatabase {
  #db;
  constructor(db) {
    this.#db = db;
  }
  prepare(sql) {
    return new RawStatement(this.#db.prepare(sql));
  }
  query(sql) {
    return new RawStatement(this.#db.prepare(sql));
  }
  /** One statement with its parameters, or (without parameters) a script of several; returns
   *  `{ changes, lastInsertRowid }` of the last statement. */
  run(sql, ...args) {
    if (args.length === 0 || (args.length === 1 && args[0] === undefined)) {
      if (typeof sql !== 'string') throw argError('run(sql): sql must be a string');
      this.#db.exec(sql);
      return this.#db.prepare('SELECT changes() AS changes, last_insert_rowid() AS lastInsertRowid').get();
    }
    return this.#db.prepare(sql).run(...args);
  }
  exec(sql, ...args) {
    return this.run(sql, ...args);
  }
  transaction(fn) {
    const db = this.#db;
    return (...a) => db.transaction(() => fn(...a));
  }
  get inTransaction() {
    return this.#db.inTransaction;
  }
  close() {
    this.#db.close();
  }
  /** The Resonance handle underneath. */
  get resonance() {
    return this.#db;
  }
}

class ResonanceDB {
  #db;
  #raw;

  /** Opens (and migrates) the Resonance database at `path`, which must exist (`io` otherwise; no
   *  file is created). */
  constructor(path) {
    checkId('new ResonanceDB(path): path', path);
    if (!fs.existsSync(path)) {
      const e = new Error(`cannot open ${JSON.stringify(path)}: the file does not exist (ResonanceDB opens an existing database)`);
      e.code = 'io';
      throw e;
    }
    this.#db = resonance.openSync(path, { allowEngineWrites: true });
  }

  /** The Resonance handle underneath (every Resonance call is on it). */
  get resonance() {
    return this.#db;
  }

  /** Writes a node (`label` stored as `title`), with its history row; `domain` and `layer`, when
   *  left out, are the core's defaults. */
  insertNode(node) {
    if (!isObject(node)) throw argError(`insertNode(node): node must be an object, got ${node === null ? 'null' : typeof node}`);
    this.#db.upsertNode({
      id: node.id,
      type: node.type,
      title: node.label,
      domain: node.domain,
      layer: node.layer,
      hash: node.hash,
      summary: node.summary,
      meta: node.meta,
      date: node.date,
      embedding: node.embedding,
    });
  }

  /** A node in the original shape (with its embedding when it has one), or `null`. */
  getNode(id) {
    checkId('getNode(id): id', id);
    const n = this.#db.getNodeSync(id, true);
    return n === null ? null : toOriginal(n);
  }

  /** Nodes in id order, filtered and paged; `excludeContent` leaves the embeddings out. */
  getNodes(options = {}) {
    if (!isObject(options)) throw argError('getNodes(options): options must be an object');
    const { domain, type, limit, offset, excludeContent } = options;
    return this.#db
      .listNodes({ domain, type, limit, offset, withEmbeddings: !excludeContent })
      .map(toOriginal);
  }

  /** The nodes of one type. */
  getNodesByType(type) {
    checkId('getNodesByType(type): type', type);
    return this.#db.listNodes({ type, withEmbeddings: true }).map(toOriginal);
  }

  /** A node's `hash` (`null` when the node or its hash is missing). */
  getNodeHash(id) {
    checkId('getNodeHash(id): id', id);
    const n = this.#db.getNodeSync(id);
    return n === null ? null : n.hash;
  }

  /** Replaces a node's meta (history row with the old and new meta; `not_found` when missing). */
  updateNodeMeta(id, meta) {
    this.#db.updateMeta(id, meta);
  }

  /** Sets a node's `date` (history row; `not_found` when missing). */
  updateNodeDate(id, date) {
    if (date instanceof Date) date = date.toISOString();
    this.#db.updateNode(id, { date });
  }

  /** Adds an edge unless `(source, target, type)` exists (type left out: the core's default,
   *  `related_to`); returns whether it was added. */
  insertEdge(source, target, type) {
    return this.#db.addEdge({ source, target, type });
  }

  /** Adds an edge or updates its confidence, veracity and context source (left out: the core's
   *  defaults, 1 and 1). */
  insertSemanticEdge(source, target, type, confidence, veracity, contextSource) {
    this.#db.upsertEdge({ source, target, type, confidence, veracity, contextSource });
  }

  /** The edges out of `nodeId`, as rows of `edges`. */
  getEdges(nodeId) {
    checkId('getEdges(nodeId): nodeId', nodeId);
    return this.#db.edgesFrom(nodeId).map(edgeRow);
  }

  /** Counts and the file's size. `semantic_tokens` counts the nodes whose meta mentions
   *  `semantic_tokens`. */
  getStats() {
    const s = this.#db.statsSync();
    const semantic = this.#db
      .prepare("SELECT count(*) FROM nodes WHERE meta LIKE '%semantic_tokens%'")
      .pluck()
      .get();
    return {
      nodes: s.nodes,
      edges: s.edges,
      vectors: s.vectors,
      semantic_tokens: semantic,
      db_size_bytes: s.dbBytes,
    };
  }

  /** The concepts of the lexicon (domain `lexicon`, type `concept`): `{ id, label, aliases,
   *  definition }`, `aliases` and `definition` from meta (`[]` and the summary, or `""`, when
   *  meta has none). */
  getLexicon() {
    return this.#db.listNodes({ domain: 'lexicon', type: 'concept' }).map((n) => {
      const meta = isObject(n.meta) ? n.meta : {};
      return {
        id: n.id,
        label: n.title,
        aliases: Array.isArray(meta.aliases) ? meta.aliases : [],
        definition: typeof meta.definition === 'string' ? meta.definition : (n.summary ?? ''),
      };
    });
  }

  beginTransaction() {
    this.#db.begin();
  }

  commit() {
    this.#db.commit();
  }

  rollback() {
    this.#db.rollback();
  }

  /** `PRAGMA wal_checkpoint` (mode `passive` by default, or the one given). */
  checkpoint(mode) {
    return this.#db.checkpoint(mode);
  }

  close() {
    this.#db.close();
  }

  /** The core's id of a document path. */
  generateId(path) {
    return resonance.generateId(path);
  }

  static generateId(path) {
    return resonance.generateId(path);
  }

  /** bun:sqlite's `Database` surface over the handle's SQL (`prepare`, `query`, `run`). */
  getRawDb() {
    if (this.#raw === undefined) this.#raw = new RawDatabase(this.#db);
    return this.#raw;
  }
}

// The Resonance handle of what the original functions take: a ResonanceDB, a raw database, or a
// handle.
function handleOf(db, name) {
  if (db instanceof ResonanceDB || db instanceof RawDatabase) return db.resonance;
  if (db instanceof resonance.Database) return db;
  throw argError(`${name}: expected a ResonanceDB, a database from DatabaseFactory.connect or a Resonance handle`);
}

/** The original vector engine's `searchByVector`, answered by the engine's search. */
class VectorEngine {
  #db;
  constructor(db) {
    this.#db = handleOf(db, 'new VectorEngine(db)');
  }
  /** The `limit` (default: the core's, 10) nodes nearest `query`: `{ id, score, title }`, best first. */
  searchByVector(query, limit) {
    const db = this.#db;
    return db.searchSync(query, { k: limit }).map((h) => {
      const n = db.getNodeSync(h.id);
      return { id: h.id, score: h.score, title: n === null ? null : n.title };
    });
  }
}

/** The original `DatabaseFactory`: `connect(path, { readonly })` gives bun:sqlite's surface over a
 *  Resonance handle opened (and, read-write, migrated) by the core, with engine-table writes allowed
 *  as the original's raw SQL made them (a read-only handle refuses them with `readonly`). */
const DatabaseFactory = {
  connect(path, options = {}) {
    if (options === null || typeof options !== 'object') throw argError('DatabaseFactory.connect(path, options): options must be an object');
    const readOnly = options.readonly === true;
    return new RawDatabase(resonance.openSync(path, { readOnly, allowEngineWrites: true }));
  },
};

/** The original `connectToResonance(path, options)`: `DatabaseFactory.connect`. */
function connectToResonance(path, options) {
  return DatabaseFactory.connect(path, options);
}

/** The original `performHealthCheck(db)` over the engine's health report (a Promise, as the report
 *  is): `{ status: "Healthy", mode }` (`mode`: the journal mode), or a thrown Error whose `problems`
 *  are the report's problems (its content findings — no nodes, few embeddings — are not problems). */
async function performHealthCheck(db) {
  const report = await handleOf(db, 'performHealthCheck(db)').health();
  if (report.problems.length > 0) {
    const e = new Error(`health check failed: ${report.problems.join('; ')}`);
    e.problems = report.problems;
    e.report = report;
    throw e;
  }
  return { status: 'Healthy', mode: report.journalMode };
}

module.exports = { ResonanceDB, RawDatabase, RawStatement, VectorEngine, DatabaseFactory, connectToResonance, performHealthCheck };
