// The console (web/dist) is embedded in the binary: rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
}
