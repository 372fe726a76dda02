// The package entry's types: those napi-rs generated for the binding (index.d.ts), plus what the
// entry (resonance.js) adds in JS: `prepare` and the `Statement` of application SQL (docs/sql.md).
export * from './index'
import type { Database } from './index'

declare global {
  /** The `signal` option's type (index.d.ts). A global of Node (@types/node), Bun and the DOM lib;
   *  declared here as an empty interface, which merges with theirs, so that the package's types also
   *  check in a project that has none of them. */
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface AbortSignal {}
}

/** A value given as an SQL parameter: a whole number within ±(2^53 − 1) binds as INTEGER (except
 *  −0), any other number as REAL, a bigint as INTEGER, a `Buffer`/`Uint8Array` as BLOB, `null` and
 *  `undefined` as NULL, `true`/`false` as 1/0. */
export type SqlParam = number | bigint | string | Uint8Array | boolean | null | undefined
/** A value read from the database: INTEGER and REAL as number, TEXT as string, BLOB as a `Buffer`
 *  (a `Uint8Array`), NULL as null. An INTEGER beyond ±(2^53 − 1) is refused (`invalid_argument`)
 *  outside safe-integers mode. */
export type SqlValue = number | string | Uint8Array | null
/** A value read in safe-integers mode: INTEGER as bigint, REAL as number. */
export type SafeSqlValue = bigint | number | string | Uint8Array | null
/** The parameters of one call: the positional values as arguments, or one array, or one plain
 *  object of named values (keys with or without their `:`/`@`/`$` prefix). */
export type SqlParams = SqlParam[] | [SqlParam[]] | [Record<string, SqlParam>]

/** How a statement returns rows: objects, the first column's value (`pluck()`), arrays (`raw()`). */
export type RowMode = 'object' | 'pluck' | 'raw'
/** A row type in safe-integers mode: number columns may be bigints (INTEGER) or numbers (REAL). */
export type SafeRow<Row> = { [K in keyof Row]: Row[K] extends number ? number | bigint : Row[K] extends number | null ? number | bigint | null : Row[K] }
/** What one row is for a statement of row type `Row`, mode `Mode`, safe-integers `Safe`. */
export type RowOf<Row, Mode extends RowMode, Safe extends boolean> =
  (Safe extends true ? SafeRow<Row> : Row) extends infer R
    ? Mode extends 'pluck' ? R[keyof R] : Mode extends 'raw' ? R[keyof R][] : R
    : never

/** What `run` did (better-sqlite3's shape). `lastInsertRowid` is a bigint in safe-integers mode or
 *  beyond ±(2^53 − 1). */
export interface StatementRunResult {
  changes: number
  lastInsertRowid: number | bigint
}

/** A result column as better-sqlite3's `columns()` describes it. */
export interface StatementColumn {
  name: string
  column: string | null
  table: string | null
  database: string | null
  type: string | null
}

/** A prepared application statement (`db.prepare(sql)`), better-sqlite3's API. `Row` is the row
 *  object's type (default: any column name to `SqlValue`); `pluck()`, `raw()` and `safeIntegers()`
 *  return the statement with the matching type. Rows are read at once (`iterate()` walks them).
 *  The `…Async` forms run on the thread pool (a Promise; refused inside a transaction like every
 *  Promise call); `db.interrupt()` stops them with `interrupted`. */
export declare class Statement<Row = Record<string, SqlValue>, Mode extends RowMode = 'object', Safe extends boolean = false> {
  private constructor()
  /** The SQL text. */
  readonly source: string
  /** Whether it returns rows. */
  readonly reader: boolean
  /** Whether it only reads. */
  readonly readonly: boolean
  /** The handle it was prepared on. */
  readonly database: Database
  run(...params: SqlParams): StatementRunResult
  get(...params: SqlParams): RowOf<Row, Mode, Safe> | undefined
  all(...params: SqlParams): RowOf<Row, Mode, Safe>[]
  iterate(...params: SqlParams): IterableIterator<RowOf<Row, Mode, Safe>>
  runAsync(...params: SqlParams): Promise<StatementRunResult>
  getAsync(...params: SqlParams): Promise<RowOf<Row, Mode, Safe> | undefined>
  allAsync(...params: SqlParams): Promise<RowOf<Row, Mode, Safe>[]>
  pluck(toggle?: true): Statement<Row, 'pluck', Safe>
  pluck(toggle: false): Statement<Row, 'object', Safe>
  raw(toggle?: true): Statement<Row, 'raw', Safe>
  raw(toggle: false): Statement<Row, 'object', Safe>
  safeIntegers(toggle?: true): Statement<Row, Mode, true>
  safeIntegers(toggle: false): Statement<Row, Mode, false>
  bind(...params: SqlParams): this
  columns(): StatementColumn[]
}

declare module './index' {
  interface Database {
    /** Compiles one application statement (errors are thrown now: `invalid_argument` for what the
     *  engine refuses, `sqlite` for a syntax error) and returns it as a `Statement`. */
    prepare<Row = Record<string, SqlValue>>(sql: string): Statement<Row>
  }
}
