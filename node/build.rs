//! Sets up the linker flags a Node-API addon needs (napi-rs).
fn main() {
    napi_build::setup();
}
