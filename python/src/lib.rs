//! Python bindings of Resonance (being written).
