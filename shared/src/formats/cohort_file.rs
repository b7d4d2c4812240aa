//! The cohort file (tool_sync format): its columns.

/// Columns of the cohort file (tool_sync format).
pub const COHORT_COLUMNS: &[&str] = &[
    "cmd",
    "userid",
    "cid",
    "cname",
    "cidnumber",
    "cdescription",
    "ccatcontext",
    "component",
];
