//! The server embeds the built web app (`frontend/dist`, see `src/web_app.rs`): rebuild it
//! whenever Trunk writes a new one, including the first time the folder appears.
fn main() {
    println!("cargo::rerun-if-changed=../frontend/dist");
}
