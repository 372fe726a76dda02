-- Resonance's own key/value facts about a database (the vector dimension, the FAFCAS protocol version).
-- Beside the application's tables, prefixed `resonance_`, so the TypeScript application ignores it.
CREATE TABLE IF NOT EXISTS resonance_meta (
    key text PRIMARY KEY NOT NULL,
    value text NOT NULL
);
INSERT OR IGNORE INTO resonance_meta (key, value) VALUES ('fafcas_version', '1');
