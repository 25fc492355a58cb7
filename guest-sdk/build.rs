//! Rebuild the bindings when the WIT contract changes (wit-bindgen's macro
//! alone does not make cargo watch the directory).
fn main() {
    println!("cargo:rerun-if-changed=../wit");
}
