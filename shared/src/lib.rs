//! The rules of cohortsync, shared by the browser, the server and the command line.
//!
//! This crate is pure: no I/O, no clock, no randomness, no async and no database. The same
//! inputs give the same outputs natively and in WebAssembly, which is what lets a teacher's
//! browser show exactly what the server will later accept.
//!
//! The modules read in the order data flows, and none imports one that imports it back
//! (`tests/layers.rs` fails on a cycle):
//!
//! - [`decode`] turns bytes into a table (encoding, delimiter, quoting, exact lines);
//! - [`formats`] recognises the kind of file from its header ([`formats::FileKind`]) and
//!   reads each row into typed values, one module per kind;
//! - the rules resolve those values against a [`snapshot`] of the site with the run's
//!   [`options`], one module per family of checks, and plan a [`changeset`];
//! - [`report`] holds what was found: diagnostics, their messages, pages of them;
//! - [`model`] is the pure apply (the snapshot after a changeset), [`revert`] plans the
//!   undoing of an applied one, [`dry_run`] tells a changeset per cohort and course,
//!   [`export`] writes the annotated file, [`folder`] decides what the sync folder's task
//!   does with a dropped file, and [`api`] has the types on the wire.
//!
//! [`check()`] is the one entry point: bytes, snapshot and options in; a report and, when it
//! has no errors, the changeset out. Checking and planning are one call because several
//! checks are findings of the plan itself (a member already in the cohort, a cohort still
//! bound to a course, a removal limit): splitting them would plan every file twice. Problems
//! are data in the report, never a panic or an `Err`. A program that checks many files
//! against one snapshot (the server per revision, the browser's worker per snapshot) keeps
//! a [`snapshot::UserIndex`] beside it and calls [`check_indexed()`]: the same result,
//! without indexing the site's users again for each file.

#![deny(missing_docs)]

pub mod api;
pub mod changeset;
pub mod check;
pub mod decode;
pub mod dry_run;
pub mod export;
pub mod folder;
pub mod formats;
pub mod model;
pub mod options;
pub mod report;
pub mod revert;
mod rules;
pub mod snapshot;
pub mod sync;

pub use check::{Checked, check, check_indexed};
pub use report::Report;

/// Hash maps with a fast, fixed-seed hasher: the rules hash every row, SipHash was most of
/// their time, and a fixed seed keeps every run (native or WASM) identical.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
/// The set counterpart of [`HashMap`].
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::FixedState>;

// The crate's tests also run compiled to wasm32, in headless Chromium (see README).
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// The version of cohortsync, the same in every crate of the workspace.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
