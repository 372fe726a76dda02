// Types of `resonance/amalfa` (amalfa.js): the original application's storage API over a Resonance
// handle.
import type { Checkpoint, Database, HealthReport } from './index'
import type { SqlParam, SqlValue, StatementRunResult } from './resonance'

/** A node as the original application wrote it (`label` is stored as `title`). */
export interface AmalfaNodeInput {
  id: string
  type?: string | null
  label?: string | null
  /** Left out: the core's default, `knowledge`. */
  domain?: string | null
  /** Left out: the core's default, `experience`. */
  layer?: string | null
  summary?: string | null
  hash?: string | null
  /** Any JSON value (written by `JSON.stringify`). */
  meta?: unknown
  date?: string | null
  embedding?: Float32Array | null
}

/** A node as the original application read it. */
export interface AmalfaNode {
  id: string
  type: string | null
  label: string | null
  domain: string | null
  layer: string | null
  summary: string | null
  /** Present only when the node has one. */
  embedding?: Float32Array
  hash: string | null
  /** The parsed meta, `{}` when there is none. */
  meta: any
  date: string | null
}

/** Options of `getNodes`. */
export interface GetNodesOptions {
  domain?: string
  type?: string
  limit?: number
  offset?: number
  /** Leave the embeddings out. */
  excludeContent?: boolean
}

/** A row of `edges`. */
export interface AmalfaEdge {
  source: string
  target: string
  type: string
  confidence: number | null
  veracity: number | null
  context_source: string | null
}

/** What `getStats()` returns. */
export interface AmalfaStats {
  nodes: number
  edges: number
  vectors: number
  /** Nodes whose meta mentions `semantic_tokens`. */
  semantic_tokens: number
  /** Size of the database file. */
  db_size_bytes: number
}

/** A concept of the lexicon. */
export interface LexiconEntry {
  id: string
  label: string | null
  aliases: unknown[]
  definition: string
}

/** Parameters of a raw statement: positional as arguments or one array, named as one object
 *  (`{ $id: 1 }` as bun:sqlite takes them, or `{ id: 1 }`). */
export type RawParams = SqlParam[] | [SqlParam[]] | [Record<string, SqlParam>]

/** bun:sqlite's `Statement` surface over the handle's application SQL. */
export declare class RawStatement<Row = Record<string, SqlValue>> {
  private constructor()
  /** The first row, `null` when there is none (as bun:sqlite). */
  get(...params: RawParams): Row | null
  all(...params: RawParams): Row[]
  values(...params: RawParams): SqlValue[][]
  run(...params: RawParams): StatementRunResult
  readonly columnNames: string[]
}

/** bun:sqlite's `Database` surface over the handle's application SQL (engine-table writes
 *  allowed; the engine's caches are dropped after them). */
export declare class RawDatabase {
  private constructor()
  prepare<Row = Record<string, SqlValue>>(sql: string): RawStatement<Row>
  query<Row = Record<string, SqlValue>>(sql: string): RawStatement<Row>
  /** One statement with parameters, or a script without. */
  run(sql: string, ...params: RawParams): StatementRunResult
  exec(sql: string, ...params: RawParams): StatementRunResult
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T
  readonly inTransaction: boolean
  close(): void
  /** The Resonance handle underneath. */
  readonly resonance: Database
}

/** The original application's `ResonanceDB`, over a Resonance handle. */
export declare class ResonanceDB {
  /** Opens and migrates an existing database (`io` when the file does not exist; none is created). */
  constructor(path: string)
  /** The Resonance handle underneath. */
  readonly resonance: Database
  insertNode(node: AmalfaNodeInput): void
  getNode(id: string): AmalfaNode | null
  getNodes(options?: GetNodesOptions): AmalfaNode[]
  getNodesByType(type: string): AmalfaNode[]
  getNodeHash(id: string): string | null
  updateNodeMeta(id: string, meta: unknown): void
  updateNodeDate(id: string, date: string | Date): void
  /** Insert or ignore; returns whether it was added. */
  insertEdge(source: string, target: string, type?: string): boolean
  /** Upsert of confidence, veracity and context source. */
  insertSemanticEdge(source: string, target: string, type: string, confidence?: number, veracity?: number, contextSource?: string | null): void
  getEdges(nodeId: string): AmalfaEdge[]
  getStats(): AmalfaStats
  getLexicon(): LexiconEntry[]
  beginTransaction(): void
  commit(): void
  rollback(): void
  checkpoint(mode?: 'passive' | 'full' | 'restart' | 'truncate'): Checkpoint
  close(): void
  generateId(path: string): string
  static generateId(path: string): string
  getRawDb(): RawDatabase
}

/** What the original functions take: a ResonanceDB, a database from `DatabaseFactory.connect`, or a
 *  Resonance handle. */
export type AnyResonance = ResonanceDB | RawDatabase | Database

/** A hit of `searchByVector`. */
export interface VectorHit {
  id: string
  score: number
  title: string | null
}

/** The original vector engine, answered by the engine's search. */
export declare class VectorEngine {
  constructor(db: AnyResonance)
  /** The `limit` (default 10) nodes nearest `query`, best first. */
  searchByVector(query: Float32Array | number[], limit?: number): VectorHit[]
}

/** Options of `DatabaseFactory.connect`. */
export interface ConnectOptions {
  readonly?: boolean
}

/** The original `DatabaseFactory`. */
export declare const DatabaseFactory: {
  /** bun:sqlite's surface over a Resonance handle (read-only, or read-write with engine-table writes). */
  connect(path: string, options?: ConnectOptions): RawDatabase
}

/** `DatabaseFactory.connect`. */
export declare function connectToResonance(path: string, options?: ConnectOptions): RawDatabase

/** The error `performHealthCheck` throws. */
export interface HealthCheckError extends Error {
  problems: string[]
  report: HealthReport
}

/** The engine's health report as the original check: `{ status: "Healthy", mode }` (the journal
 *  mode), or a rejected Promise with a `HealthCheckError`. */
export declare function performHealthCheck(db: AnyResonance): Promise<{ status: 'Healthy'; mode: string }>
