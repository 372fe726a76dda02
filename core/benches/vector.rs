//! Criterion benchmarks of the vector kernels and the matrix search (being written).

fn main() {}
