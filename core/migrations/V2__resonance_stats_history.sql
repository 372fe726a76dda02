-- Snapshots of a database's counts and sizes over time (record_stats / stats_history, docs/stats.md).
-- A plain CREATE TABLE, not IF NOT EXISTS: a table of this name planted in a file before this step
-- makes the step fail (and the open with it, the file unchanged) instead of being taken as ours.
CREATE TABLE resonance_stats_history (
    id integer PRIMARY KEY NOT NULL,
    recorded_at text NOT NULL,
    nodes integer NOT NULL,
    edges integer NOT NULL,
    vectors integer NOT NULL,
    dangling_edges integer NOT NULL,
    dimension integer,
    history integer NOT NULL,
    db_bytes integer NOT NULL,
    wal_bytes integer NOT NULL,
    label text,
    meta text
);
