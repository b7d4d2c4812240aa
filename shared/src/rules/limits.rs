//! Safety limits: a file that removes too much, or has too few rows, is refused unless an
//! admin overrides the limits explicitly (then the same diagnostics are warnings).

use crate::options::{Mode, Options};
use crate::report::{Code, Diagnostic, Diagnostics, Severity};

/// Checks the limits for a file of `rows` data rows that ends `removals` memberships (or
/// enrolments) out of `members_before` in the cohorts it names.
pub(crate) fn check(
    rows: usize,
    removals: u64,
    members_before: u64,
    options: &Options,
    line: u32,
    diagnostics: &mut Diagnostics,
) {
    let mut exceeded = Vec::new();
    if let Some(min) = options.min_rows
        && (rows as u64) < min
    {
        exceeded.push(("min_rows", rows.to_string(), min.to_string()));
    }
    if let Some(max) = options.max_removals
        && removals > max
    {
        exceeded.push(("max_removals", removals.to_string(), max.to_string()));
    }
    if let Some(max) = options.max_removals_percent
        && options.mode == Mode::Full
        && members_before > 0
    {
        let percent = removals as f64 * 100.0 / members_before as f64;
        if percent > max {
            exceeded.push((
                "max_removals_percent",
                format!("{percent:.1}"),
                format!("{max}"),
            ));
        }
    }
    for (limit, actual, allowed) in exceeded {
        let mut d = Diagnostic::new(Code::LimitExceeded, line)
            .column(limit)
            .arg(limit)
            .arg(actual)
            .arg(allowed);
        if options.override_limits {
            d = d.arg("overridden").severity(Severity::Warning);
        }
        diagnostics.push(d);
    }
}
