//! The rules of cohortsync, shared by the browser, the server and the command line.
//!
//! This crate is pure: no I/O, no clock, no randomness, no async and no database. The same
//! inputs give the same outputs natively and in WebAssembly, which is what lets a teacher's
//! browser show exactly what the server will later accept.
//!
//! Today it holds the types exchanged over the wire ([`api`]); the decoding, validation and
//! planning rules are added here as they are built.

#![deny(missing_docs)]

pub mod api;

// The crate's tests also run compiled to wasm32, in headless Chromium (see README).
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// The version of cohortsync, the same in every crate of the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
