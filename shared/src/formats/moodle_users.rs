//! The cohort columns of Moodle's user upload file (*Site administration › Users › Upload
//! users*): `cohort1`, `cohort2`… beside `username` and the user's other columns.
//! cohortsync does not create or change users: such a file is read as membership additions,
//! each `cohortN` cell naming a cohort the row's user joins. The other user columns
//! (`password`, `firstname`…) are noted once each and ignored.

use super::Columns;
use crate::options::{CohortIdentifier, UserIdentifier};

/// The columns that can name the row's user, with the identifier each one is.
pub const MOODLE_USER_KEYS: &[(&str, UserIdentifier)] = &[
    ("username", UserIdentifier::Username),
    ("idnumber", UserIdentifier::Idnumber),
    ("email", UserIdentifier::Email),
];

/// Whether `name` is one of Moodle's `cohortN` columns.
pub(crate) fn is_cohort_column(name: &str) -> bool {
    name.strip_prefix("cohort")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `header` (names lower-cased, spaces removed) is a user upload file with cohort
/// columns: a `cohortN` column and a column naming the user.
pub(crate) fn fits(header: &[String]) -> bool {
    header.iter().any(|h| is_cohort_column(h))
        && MOODLE_USER_KEYS
            .iter()
            .any(|(key, _)| header.iter().any(|h| h == key))
}

/// The column that names the user, and how: the column of the *user identifier* option
/// when the file has it, else `username` (Moodle's key for this file), else `idnumber`, else
/// `email`.
pub(crate) fn user_column(
    columns: &Columns,
    option: UserIdentifier,
) -> (&'static str, UserIdentifier) {
    MOODLE_USER_KEYS
        .iter()
        .find(|(key, kind)| *kind == option && columns.has(key))
        .or_else(|| MOODLE_USER_KEYS.iter().find(|(key, _)| columns.has(key)))
        .copied()
        .unwrap_or(MOODLE_USER_KEYS[0])
}

/// How a `cohortN` value names its cohort, Moodle's rule: by id when numeric, else by
/// idnumber.
pub(crate) fn cohort_identifier(value: &str) -> CohortIdentifier {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        CohortIdentifier::Id
    } else {
        CohortIdentifier::Idnumber
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_numeric_value_is_an_id_anything_else_an_idnumber() {
        assert_eq!(cohort_identifier("12"), CohortIdentifier::Id);
        assert_eq!(cohort_identifier("L1-2026"), CohortIdentifier::Idnumber);
        assert_eq!(cohort_identifier("12a"), CohortIdentifier::Idnumber);
        assert!(is_cohort_column("cohort1") && is_cohort_column("cohort12"));
        assert!(!is_cohort_column("cohort") && !is_cohort_column("cohorts"));
    }
}
