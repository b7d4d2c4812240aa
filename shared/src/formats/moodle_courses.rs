//! The enrolment columns of Moodle's course upload file (*Site administration › Courses ›
//! Upload courses*): `shortname`, and per enrolment method N `enrolment_N` (the method) with
//! its fields `enrolment_N_cohortidnumber`, `enrolment_N_role`, `enrolment_N_addtogroup`,
//! `enrolment_N_groupname`, `enrolment_N_disable`, `enrolment_N_delete`. cohortsync does not
//! create or change courses: such a file is read as cohort bindings of existing courses.
//! The other course columns are noted once each and ignored.

use super::Columns;

/// The fields of a cohort-sync enrolment Moodle's course upload reads (as
/// `enrol_cohort` knows them).
pub(crate) const COHORT_FIELDS: &[&str] = &[
    "cohortidnumber",
    "role",
    "addtogroup",
    "groupname",
    "disable",
    "delete",
];

/// `enrolment_N` → `(N, None)`; `enrolment_N_field` → `(N, Some(field))`; anything else
/// → `None`.
pub(crate) fn enrolment_column(name: &str) -> Option<(u32, Option<&str>)> {
    let rest = name.strip_prefix("enrolment_")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let n = rest[..digits].parse().ok()?;
    match &rest[digits..] {
        "" => Some((n, None)),
        field => field
            .strip_prefix('_')
            .filter(|f| !f.is_empty())
            .map(|f| (n, Some(f))),
    }
}

/// Whether `header` (names lower-cased, spaces removed) is a course upload file with
/// enrolment columns: `shortname` and an `enrolment_N` column.
pub(crate) fn fits(header: &[String]) -> bool {
    header.iter().any(|h| h == "shortname")
        && header
            .iter()
            .any(|h| matches!(enrolment_column(h), Some((_, None))))
}

/// One enrolment method of the file: its number, the position of its `enrolment_N` cell,
/// and its fields' columns (name, position).
#[derive(Debug, Clone)]
pub(crate) struct Method<'c> {
    pub(crate) number: u32,
    /// The `enrolment_N` column's name and position, when the header has it.
    pub(crate) method: Option<(&'c str, usize)>,
    pub(crate) fields: Vec<(&'c str, &'c str, usize)>,
}

impl<'c> Method<'c> {
    /// The column (name, position) of `field`, if the file has it.
    pub(crate) fn field(&self, field: &str) -> Option<(&'c str, usize)> {
        self.fields
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, name, position)| (*name, *position))
    }
}

/// The enrolment methods of a file, by number.
pub(crate) fn methods(columns: &Columns) -> Vec<Method<'_>> {
    let mut methods: Vec<Method<'_>> = Vec::new();
    let mut by_number: crate::HashMap<u32, usize> = crate::HashMap::default();
    for (name, position) in columns.numbered() {
        let Some((number, field)) = enrolment_column(name) else {
            continue;
        };
        let index = *by_number.entry(number).or_insert_with(|| {
            methods.push(Method {
                number,
                method: None,
                fields: Vec::new(),
            });
            methods.len() - 1
        });
        match field {
            None => methods[index].method = Some((name, *position)),
            Some(field) => methods[index].fields.push((field, name, *position)),
        }
    }
    methods.sort_by_key(|m| m.number);
    methods
}

/// A yes/no cell of the file (`disable`, `delete`): `1`, `yes`, `true` are yes; empty,
/// `0`, `no`, `false` are no; anything else is `None`, for the rules to refuse (Moodle would
/// take any other text for yes).
pub(crate) fn yes_no(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "1" | "yes" | "true" | "y" | "oui" => Some(true),
        "" | "0" | "no" | "false" | "n" | "non" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn enrolment_columns_are_numbered_with_their_field() {
        assert_eq!(enrolment_column("enrolment_1"), Some((1, None)));
        assert_eq!(
            enrolment_column("enrolment_12_cohortidnumber"),
            Some((12, Some("cohortidnumber")))
        );
        assert_eq!(enrolment_column("enrolment_"), None);
        assert_eq!(enrolment_column("enrolment_x"), None);
        assert_eq!(enrolment_column("enrolment_1_"), None);
        assert_eq!(enrolment_column("enrolments"), None);
        assert_eq!(yes_no("Yes"), Some(true));
        assert_eq!(yes_no(""), Some(false));
        assert_eq!(yes_no("maybe"), None);
    }
}
