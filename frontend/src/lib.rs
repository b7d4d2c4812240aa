//! The cohortsync web app: check a file in the browser (in a web worker, against a cached
//! snapshot of the site, even offline), submit it, and review changesets.
//!
//! Two binaries come from this crate: the app itself (`main.rs`) and the check worker
//! (`bin/worker.rs`), both built by Trunk from `index.html`.
//!
//! The layout follows Yew's `function_todomvc`: [`state`] (the `Reducible` states and their
//! actions), [`hooks`], [`components`], [`pages`] (one per file), [`routes`], and [`app`], the
//! root that holds them together.

pub mod api;
pub mod app;
pub mod cache;
pub mod components;
pub mod hooks;
pub mod i18n;
pub mod pages;
pub mod routes;
pub mod state;
pub mod worker;
