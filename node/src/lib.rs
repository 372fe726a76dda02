//! Node and Bun addon of Resonance (being written).
