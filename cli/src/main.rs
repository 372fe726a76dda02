//! The `resonance` command.
fn main() {}
