//! Moodle's core cohort upload file (*Site administration › Users › Cohorts › Upload
//! cohorts*): one cohort per row, `name` required, and `idnumber`, `description`,
//! `descriptionformat`, `visible`, `theme` and where the cohort lives: `contextid`,
//! `context`, `category`, `category_id`, `category_idnumber`, `category_path`. The file only
//! creates cohorts. Header names are read as Moodle reads them: lower-cased, spaces removed.
//!
//! `read` turns a row into its values; the rules (`rules/moodle_cohorts.rs`) resolve them.

use super::{Columns, cell};
use crate::decode::Row;

/// Columns of Moodle's cohort upload file, as Moodle 5.0's `cohort/upload_form.php` knows
/// them.
pub const MOODLE_COHORT_COLUMNS: &[&str] = &[
    "name",
    "idnumber",
    "description",
    "descriptionformat",
    "visible",
    "theme",
    "contextid",
    "context",
    "category",
    "category_id",
    "category_idnumber",
    "category_path",
];

/// Columns Moodle reads that cohortsync does not set: each gets one `ignored_column` note.
/// A cohort gets Moodle's defaults for them (HTML description, no theme).
pub(crate) const NOT_SET: &[&str] = &["descriptionformat", "theme"];

/// Whether `header` (names lower-cased, spaces removed) is a cohort upload file's: it has
/// `name` and, beside it, only `name`, or at least one other column of the format (a
/// `name` among columns of no known format is not taken for one).
pub(crate) fn fits(header: &[String]) -> bool {
    let named: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| !h.is_empty())
        .collect();
    named.contains(&"name")
        && (named.len() == 1
            || named
                .iter()
                .any(|h| *h != "name" && MOODLE_COHORT_COLUMNS.contains(h)))
}

/// Where a row says its cohort lives: the cells Moodle looks at, in the order it does.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Place<'t> {
    pub(crate) contextid: &'t str,
    pub(crate) context: &'t str,
    pub(crate) category_path: &'t str,
    pub(crate) category: &'t str,
    pub(crate) category_id: &'t str,
    pub(crate) category_idnumber: &'t str,
}

/// One row of a cohort upload file, read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoodleCohortLine<'t> {
    pub(crate) line: u32,
    pub(crate) name: &'t str,
    pub(crate) idnumber: &'t str,
    /// Moodle keeps the description as given (`PARAM_RAW`): it is not trimmed.
    pub(crate) description: &'t str,
    pub(crate) visible: bool,
    pub(crate) place: Place<'t>,
}

/// Reads `row`: every cell has a meaning, so a row always reads.
pub(crate) fn read<'t>(row: &Row<'t>, columns: &Columns) -> MoodleCohortLine<'t> {
    let at = |name: &str| cell(row, columns.get(name));
    MoodleCohortLine {
        line: row.line,
        name: at("name"),
        idnumber: at("idnumber"),
        description: columns.get("description").map_or("", |i| row.cell(i)),
        visible: visible(at("visible")),
        place: Place {
            contextid: at("contextid"),
            context: at("context"),
            category_path: at("category_path"),
            category: at("category"),
            category_id: at("category_id"),
            category_idnumber: at("category_idnumber"),
        },
    }
}

/// The `visible` cell as Moodle reads it: empty is visible; `no`, `n`, `0`, `false`, `off`
/// (and the French `non`, Moodle's `no` string on a French site) are hidden, whatever
/// their case; anything else is visible.
pub(crate) fn visible(value: &str) -> bool {
    !matches!(
        value.trim().to_lowercase().as_str(),
        "no" | "n" | "0" | "false" | "off" | "non"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn visible_is_moodles_reading() {
        for hidden in ["no", "No", "N", "0", "false", "FALSE", "off", "Non"] {
            assert!(!visible(hidden), "{hidden}");
        }
        for shown in ["", "yes", "1", "y", "true", "maybe", "2"] {
            assert!(visible(shown), "{shown}");
        }
    }

    #[test]
    fn a_name_column_alone_or_with_moodles_columns_is_the_format() {
        let header = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(fits(&header(&["name"])));
        assert!(fits(&header(&["name", "idnumber", "colour"])));
        assert!(fits(&header(&["name", "category_path"])));
        assert!(!fits(&header(&["name", "email"])));
        assert!(!fits(&header(&["idnumber", "description"])));
    }
}
