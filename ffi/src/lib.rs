//! The C ABI of Resonance (being written).
