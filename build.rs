//! Rebuild when the embedded templates change: `include_dir!` does not tell cargo on stable.
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=build.rs");
}
