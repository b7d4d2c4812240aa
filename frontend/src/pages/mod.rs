//! The app's pages, one module each.

pub mod changesets;
pub mod check;
pub mod cohorts;
pub mod login;
