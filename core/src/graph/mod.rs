//! Graph analytics on a compact in-memory snapshot of `nodes` and `edges` (design §8).
