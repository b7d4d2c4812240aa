//! Rules of Moodle's cohort upload file ([`crate::formats::moodle_cohorts`]), as Moodle
//! 5.0's `cohort/upload_form.php` applies them: each row creates one cohort, manual (Moodle's
//! screen makes cohorts with no component), in the context the row names or the default
//! one. An idnumber the site or an earlier row has is refused; a category that cannot be
//! found is a warning and the cohort goes to the default context, as Moodle does.

use crate::HashMap;

use super::Site;
use super::cohorts::Planned;
use crate::changeset::{NewCohort, Operation, Step};
use crate::formats::moodle_cohorts::{self, MoodleCohortLine, NOT_SET, Place};
use crate::formats::{COHORT_IDNUMBER_CHARS, COHORT_NAME_CHARS, Columns, Rows, unstorable_cells};
use crate::options::{CohortIdentifier, Options};
use crate::report::{Code, Diagnostic, Diagnostics};
use crate::snapshot::{Category, Snapshot, category_paths};

/// Moodle's system context id (`SYSCONTEXTID`): the same on every site.
const SYSTEM_CONTEXT_ID: i64 = 1;

/// Checks and plans the rows of a cohort upload file.
pub(crate) fn plan(
    rows: &Rows<'_>,
    columns: &Columns,
    header_line: u32,
    site: &Site<'_>,
    options: &Options,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Planned {
    for column in NOT_SET {
        if columns.has(column) {
            diagnostics.push(
                Diagnostic::new(Code::IgnoredColumn, header_line)
                    .column(*column)
                    .arg("not_set"),
            );
        }
    }
    let categories = Categories::new(site.snapshot);
    let default = categories.default_place(options, header_line, diagnostics);
    let limits = [
        ("name", columns.get("name"), COHORT_NAME_CHARS),
        ("idnumber", columns.get("idnumber"), COHORT_IDNUMBER_CHARS),
    ];
    let mut planned = Planned::default();
    let mut idnumbers: HashMap<String, u32> = HashMap::default();
    let mut created = 0u32;
    for (index, row) in rows.iter().enumerate() {
        if index.is_multiple_of(crate::decode::PROGRESS_EVERY) {
            progress(index, rows.len());
        }
        let unstorable = unstorable_cells(&row, rows.header(), &limits, diagnostics);
        let read = moodle_cohorts::read(&row, columns);
        let mut refused = unstorable.any();
        if read.name.is_empty() {
            refused = true;
            diagnostics.push(
                Diagnostic::new(Code::EmptyValue, read.line)
                    .column("name")
                    .arg("new_cohort_name"),
            );
        }
        if !read.idnumber.is_empty() && !unstorable.has(columns.get("idnumber")) {
            refused |= idnumber_taken(&read, site, &mut idnumbers, diagnostics);
        }
        let place = categories.place(&read, default, diagnostics);
        if refused {
            continue;
        }
        let category = place.map(|i| &categories.list[i]);
        planned.operations.push(Step {
            line: Some(read.line),
            op: Operation::CreateCohort(Box::new(NewCohort {
                cohort: created,
                idnumber: read.idnumber.to_owned(),
                name: read.name.to_owned(),
                description: read.description.to_owned(),
                category: category.map_or(String::new(), |c| c.key().to_owned()),
                category_id: category.map(|c| c.id),
                component: String::new(),
                visible: read.visible,
            })),
        });
        created += 1;
    }
    planned
}

/// Whether the row's idnumber is taken, by a cohort of the site or by an earlier row (which
/// is reported); the first row to give an idnumber keeps it.
fn idnumber_taken(
    read: &MoodleCohortLine<'_>,
    site: &Site<'_>,
    idnumbers: &mut HashMap<String, u32>,
    diagnostics: &mut Diagnostics,
) -> bool {
    let conflict = Diagnostic::new(Code::CohortConflict, read.line)
        .column("idnumber")
        .value(read.idnumber);
    if let [taken, ..] = site.find_cohorts(CohortIdentifier::Idnumber, read.idnumber) {
        diagnostics.push(
            conflict
                .arg("taken")
                .arg("idnumber")
                .arg(&site.cohort(*taken as usize).name),
        );
        return true;
    }
    if let Some(first) = idnumbers.get(read.idnumber) {
        diagnostics.push(conflict.arg("in_file").arg("idnumber").arg(first));
        return true;
    }
    idnumbers.insert(read.idnumber.to_owned(), read.line);
    false
}

/// The site's categories, indexed the ways a cohort upload file names them.
pub(crate) struct Categories<'s> {
    list: &'s [Category],
    by_id: HashMap<i64, usize>,
    by_idnumber: HashMap<&'s str, usize>,
    by_context: HashMap<i64, usize>,
    /// "Parent / Child" as Moodle's category list shows them; the first category of a path
    /// wins, as it does in Moodle's list.
    by_path: HashMap<String, usize>,
    /// Each category's path, by index (its name when its parents loop).
    paths: Vec<String>,
}

/// Where a cohort goes: a category (its index), or `None` for the system context.
type PlaceFound = Option<usize>;

impl<'s> Categories<'s> {
    pub(crate) fn new(snapshot: &'s Snapshot) -> Self {
        let list = snapshot.categories.as_slice();
        let by_id: HashMap<i64, usize> = list.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let mut categories = Categories {
            list,
            by_idnumber: list
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.idnumber.is_empty())
                .map(|(i, c)| (c.idnumber.as_str(), i))
                .collect(),
            by_context: list
                .iter()
                .enumerate()
                .filter(|(_, c)| c.context != 0)
                .map(|(i, c)| (c.context, i))
                .collect(),
            by_path: HashMap::default(),
            paths: Vec::with_capacity(list.len()),
            by_id,
        };
        for (index, path) in category_paths(list).into_iter().enumerate() {
            match path {
                Some(path) => {
                    categories.by_path.entry(path.clone()).or_insert(index);
                    categories.paths.push(path);
                }
                None => categories.paths.push(list[index].name.clone()),
            }
        }
        categories
    }

    /// A category named as a `category` cell or the default-category option names one: a
    /// path first, then an id when numeric, else an idnumber.
    fn named(&self, value: &str) -> Option<usize> {
        self.by_path.get(value).copied().or_else(|| {
            if value.bytes().all(|b| b.is_ascii_digit()) {
                value
                    .parse()
                    .ok()
                    .and_then(|id| self.by_id.get(&id).copied())
            } else {
                self.by_idnumber.get(value).copied()
            }
        })
    }

    /// The default context (the `default_category` option): the system's unless it names a
    /// category; one that names none is reported on the header line.
    fn default_place(
        &self,
        options: &Options,
        header_line: u32,
        diagnostics: &mut Diagnostics,
    ) -> PlaceFound {
        let value = options.default_category.trim();
        if value.is_empty() {
            return None;
        }
        let found = self.named(value);
        if found.is_none() {
            diagnostics.push(
                Diagnostic::new(Code::CategoryNotFound, header_line)
                    .value(value)
                    .arg("default_category")
                    .arg(""),
            );
        }
        found
    }

    /// Where the row's cohort goes, in Moodle's order: `contextid`, then `context` (the
    /// system by name or id, else a category), then `category_path`, then `category` as a
    /// path, then `category_id`, `category_idnumber`, then `category` as an id or idnumber;
    /// else the default. A name that finds nothing is a warning, and the default is used.
    fn place(
        &self,
        read: &MoodleCohortLine<'_>,
        default: PlaceFound,
        diagnostics: &mut Diagnostics,
    ) -> PlaceFound {
        let Place {
            contextid,
            context,
            category_path,
            mut category,
            category_id,
            category_idnumber,
        } = read.place;
        let mut category_column = "category";
        let not_found = |column: &str, value: &str, how: &str, diagnostics: &mut Diagnostics| {
            diagnostics.push(
                Diagnostic::new(Code::CategoryNotFound, read.line)
                    .column(column)
                    .value(value)
                    .arg(how)
                    // By path: two categories may share a name.
                    .arg(default.map_or("", |i| self.paths[i].as_str())),
            );
            default
        };
        if !contextid.is_empty() {
            return match contextid.parse::<i64>() {
                Ok(SYSTEM_CONTEXT_ID) => None,
                Ok(id) if self.by_context.contains_key(&id) => Some(self.by_context[&id]),
                _ => not_found("contextid", contextid, "contextid", diagnostics),
            };
        }
        if !context.is_empty() {
            let lower = context.to_lowercase();
            if matches!(lower.as_str(), "system" | "système" | "systeme")
                || context == SYSTEM_CONTEXT_ID.to_string()
            {
                return None;
            }
            // Any other context is a category, named as a `category` cell names one.
            category = context;
            category_column = "context";
        }
        if !category_path.is_empty() {
            return match self.by_path.get(category_path) {
                Some(&found) => Some(found),
                None => not_found("category_path", category_path, "path", diagnostics),
            };
        }
        if let Some(&found) = self.by_path.get(category) {
            return Some(found);
        }
        let (column, value, found) = if !category_id.is_empty() {
            let found = category_id
                .parse::<i64>()
                .ok()
                .and_then(|id| self.by_id.get(&id).copied());
            ("category_id", category_id, found)
        } else if !category_idnumber.is_empty() {
            let found = self.by_idnumber.get(category_idnumber).copied();
            ("category_idnumber", category_idnumber, found)
        } else if !category.is_empty() {
            (category_column, category, self.named(category))
        } else {
            return default;
        };
        found.or_else(|| {
            let how = match column {
                "category_id" => "id",
                "category_idnumber" => "idnumber",
                _ => "category",
            };
            not_found(column, value, how, diagnostics)
        })
    }
}
