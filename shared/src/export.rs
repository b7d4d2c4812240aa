//! Files made for people: the annotated copy of a checked file, safe to open in a
//! spreadsheet, a file cut into its good and bad rows (the sync folder's tryback), and a
//! changeset as the files Moodle's own upload screens read.

use crate::changeset::{Changeset, Operation, Ref};
use crate::decode::decode;
use crate::formats::FileKind;
use crate::options::Options;
use crate::report::{Diagnostic, Lang, Severity, kind_name};
use crate::snapshot::Snapshot;

/// Makes a cell safe for spreadsheets: a value starting with `=`, `+`, `-`, `@` (or their
/// full-width forms `＝ ＋ － ＠`, which some spreadsheets read the same), after any spaces
/// or tabs, or with a tab or a carriage return, would be run as a formula, so it gets a
/// leading `'`.
///
/// ```
/// use cohortsync_shared::export::neutralise;
/// assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(neutralise("-1"), "'-1");
/// assert_eq!(neutralise("  =1+1"), "'  =1+1");
/// assert_eq!(neutralise("\t@SUM(A1)"), "'\t@SUM(A1)");
/// assert_eq!(neutralise("＝1+1"), "'＝1+1");
/// assert_eq!(neutralise("L2 Pharmacie"), "L2 Pharmacie");
/// assert_eq!(neutralise("  L2"), "  L2");
/// ```
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let first = cell
        .trim_start_matches([' ', '\t', '\u{3000}'])
        .chars()
        .next();
    let runs = matches!(
        first,
        Some('=' | '+' | '-' | '@' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}')
    ) || cell.starts_with(['\t', '\r']);
    if runs {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The annotated copy of a checked file: its header and data rows with two more columns,
/// `status` (`ok`, or the most serious severity on that line) and `messages` (every
/// diagnostic of the line, in `lang`), as UTF-8 with a byte-order mark (so that spreadsheets
/// read accents right), with the file's delimiter. Every cell is [`neutralise`]d. Comment
/// and blank lines are left out; the kind of file, when it was recognised, is a first
/// comment line (`# cohorts: cohort file`), which cohortsync skips if the copy is checked
/// again; problems of the header line (a missing column…) are in a first row whose first
/// cell is `#header`.
///
/// ```
/// use cohortsync_shared::export::annotate;
/// use cohortsync_shared::formats::FileKind;
/// use cohortsync_shared::options::Options;
/// use cohortsync_shared::report::{Code, Diagnostic, Lang};
///
/// let file = b"cmd;userid\nadd;=1+1\n";
/// let diagnostic = Diagnostic::new(Code::UserNotFound, 2).column("userid").value("=1+1").arg("idnumber");
/// let out = annotate(file, Some(FileKind::Cohorts), &[diagnostic], Lang::En, &Options::default());
/// let out = String::from_utf8(out).unwrap();
/// assert_eq!(out, "\u{feff}# cohorts: cohort file\r\ncmd;userid;status;messages\r\nadd;'=1+1;error;No user has idnumber “=1+1”.\r\n");
/// ```
pub fn annotate(
    bytes: &[u8],
    kind: Option<FileKind>,
    diagnostics: &[Diagnostic],
    lang: Lang,
    options: &Options,
) -> Vec<u8> {
    let mut ignored = crate::report::Diagnostics::keeping(0);
    let Some(table) = decode(bytes, options.encoding, options.delimiter, &mut ignored) else {
        return Vec::new();
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(table.delimiter.byte())
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(match kind {
            // Kind names hold no delimiter, quote or line break: the line stays a comment.
            Some(kind) => {
                format!("\u{feff}# {}: {}\r\n", kind.as_str(), kind_name(kind, lang)).into_bytes()
            }
            None => Vec::from("\u{feff}".as_bytes()),
        });
    // Grouped once by line: looking them up per row would be rows × diagnostics.
    let mut by_line: std::collections::BTreeMap<u32, Vec<&Diagnostic>> = Default::default();
    for d in diagnostics {
        by_line.entry(d.line).or_default().push(d);
    }
    let on_line = |line: u32| by_line.get(&line).map_or(&[][..], Vec::as_slice);
    // `Severity` orders from the most serious: the first is the line's status.
    let status = |line: u32| {
        on_line(line)
            .iter()
            .map(|d| d.severity)
            .min()
            .map_or("ok", Severity::as_str)
    };
    let messages = |line: u32| {
        on_line(line)
            .iter()
            .map(|d| d.message(lang))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    // Writing to a Vec cannot fail.
    let mut header: Vec<String> = table
        .header
        .iter()
        .map(|h| neutralise(h).into_owned())
        .collect();
    header.push("status".into());
    header.push("messages".into());
    let _ = writer.write_record(&header);
    if !on_line(table.header_line).is_empty() {
        let mut first = vec!["#header".to_owned(); 1];
        first.resize(table.header.len().max(1), String::new());
        first.push(status(table.header_line).into());
        first.push(neutralise(&messages(table.header_line)).into_owned());
        let _ = writer.write_record(&first);
    }
    for row in table.rows() {
        let mut cells: Vec<String> = row.cells().map(|c| neutralise(c).into_owned()).collect();
        cells.resize(cells.len().max(table.header.len()), String::new());
        cells.push(status(row.line).into());
        cells.push(neutralise(&messages(row.line)).into_owned());
        let _ = writer.write_record(&cells);
    }
    writer.into_inner().unwrap_or_default()
}

/// A checked file cut in two: the rows without errors, and the rows with errors (a
/// "tryback" file, to be fixed and run again), each with the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFile {
    /// The header and the rows no error names.
    pub kept: Vec<u8>,
    /// How many data rows `kept` has.
    pub kept_rows: usize,
    /// The header and the rows with errors.
    pub set_aside: Vec<u8>,
    /// How many data rows `set_aside` has.
    pub set_aside_rows: usize,
}

/// Cuts a file by the lines of its errors: every data row whose line is in `bad_lines`
/// goes to [`SplitFile::set_aside`], the others to [`SplitFile::kept`], both after the
/// header, as UTF-8 with the file's delimiter (comment and blank lines left out). The
/// cells are written as they were, not [`neutralise`]d: these files are to be run again,
/// not opened as reports. An error on the header line or before it (a missing column, an
/// unreadable file) is every row's: all of them are set aside. `None`: the file cannot
/// be read as a table at all.
///
/// ```
/// use cohortsync_shared::export::split_rows;
/// use cohortsync_shared::options::Options;
///
/// let file = b"cmd;cidnumber;userid\nadd;L2;U1\n# a comment\nadd;L2;U404\nadd;L2;U3\n";
/// let split = split_rows(file, &[4].into(), &Options::default()).unwrap();
/// assert_eq!(split.kept, b"cmd;cidnumber;userid\r\nadd;L2;U1\r\nadd;L2;U3\r\n");
/// assert_eq!(split.set_aside, b"cmd;cidnumber;userid\r\nadd;L2;U404\r\n");
/// assert_eq!((split.kept_rows, split.set_aside_rows), (2, 1));
/// ```
pub fn split_rows(
    bytes: &[u8],
    bad_lines: &std::collections::BTreeSet<u32>,
    options: &Options,
) -> Option<SplitFile> {
    let mut ignored = crate::report::Diagnostics::keeping(0);
    let table = decode(bytes, options.encoding, options.delimiter, &mut ignored)?;
    let whole_file_bad = bad_lines
        .first()
        .is_some_and(|&first| first <= table.header_line);
    let writer = || {
        csv::WriterBuilder::new()
            .delimiter(table.delimiter.byte())
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(Vec::new())
    };
    let (mut kept, mut set_aside) = (writer(), writer());
    // Writing to a Vec cannot fail.
    let _ = kept.write_record(&table.header);
    let _ = set_aside.write_record(&table.header);
    let (mut kept_rows, mut set_aside_rows) = (0, 0);
    for row in table.rows() {
        if whole_file_bad || bad_lines.contains(&row.line) {
            let _ = set_aside.write_record(row.cells());
            set_aside_rows += 1;
        } else {
            let _ = kept.write_record(row.cells());
            kept_rows += 1;
        }
    }
    Some(SplitFile {
        kept: kept.into_inner().unwrap_or_default(),
        kept_rows,
        set_aside: set_aside.into_inner().unwrap_or_default(),
        set_aside_rows,
    })
}

/// A changeset's new cohorts as Moodle's own cohort upload file (*Site administration ›
/// Users › Cohorts › Upload cohorts*): `name,idnumber,description,visible,category_id`, one
/// row per cohort it creates, in the category the plan found (by id), so that a site that
/// will not let cohortsync write can load them through Moodle's screen. Cohorts made that
/// way are manual (no component), as Moodle makes them. `None` when it creates none.
///
/// ```
/// use cohortsync_shared::changeset::{Changeset, NewCohort, Operation, Step};
/// use cohortsync_shared::export::moodle_cohort_file;
///
/// let plan = Changeset {
///     base_revision: 1,
///     operations: vec![Step { line: Some(2), op: Operation::CreateCohort(Box::new(NewCohort {
///         cohort: 0, idnumber: "L1-2026".into(), name: "Licence 1, 2026".into(),
///         description: String::new(), category: "SCI".into(), category_id: Some(2),
///         component: "cohortsync".into(), visible: false,
///     })) }],
///     effects: vec![],
/// };
/// assert_eq!(
///     moodle_cohort_file(&plan).unwrap(),
///     "name,idnumber,description,visible,category_id\n\"Licence 1, 2026\",L1-2026,,0,2\n"
/// );
/// ```
pub fn moodle_cohort_file(plan: &Changeset) -> Option<String> {
    let mut rows = plan.operations.iter().filter_map(|s| match &s.op {
        Operation::CreateCohort(new) => Some([
            new.name.clone(),
            new.idnumber.clone(),
            new.description.clone(),
            if new.visible { "1" } else { "0" }.to_owned(),
            // A category the plan found goes by id; one it only named, as it was named.
            new.category_id
                .map_or_else(|| new.category.clone(), |id| id.to_string()),
        ]),
        _ => None,
    });
    let first = rows.next()?;
    let by_id = plan.operations.iter().all(|s| match &s.op {
        Operation::CreateCohort(new) => new.category_id.is_some() || new.category.is_empty(),
        _ => true,
    });
    let mut writer = moodle_writer();
    let place = if by_id { "category_id" } else { "category" };
    write(
        &mut writer,
        &["name", "idnumber", "description", "visible", place],
    );
    for row in std::iter::once(first).chain(rows) {
        write(&mut writer, &row);
    }
    Some(finish(writer))
}

/// Why a membership addition cannot go in Moodle's user upload file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotExported {
    /// The user has no username (Moodle's key for that file), or the snapshot lacks them.
    User(i64),
    /// A cohort the changeset creates without an idnumber: the file could not name it.
    NewCohortWithoutIdnumber(u32),
}

/// A changeset's membership additions as Moodle's own user upload file (*Site
/// administration › Users › Upload users*, upload type *Update existing users only*):
/// `username,cohort1,cohort2…`, one row per user, each cohort by idnumber (by id when it
/// has none: Moodle reads a numeric value as an id). Moodle's file cannot remove members,
/// so removals are not in it; a cohort this changeset creates is named by its idnumber
/// (load [`moodle_cohort_file`] first). `None` when it adds nobody; `Err` lists what the
/// file could not name.
pub fn moodle_user_file(
    plan: &Changeset,
    snapshot: &Snapshot,
) -> Result<Option<String>, Vec<NotExported>> {
    let new_idnumbers: Vec<(u32, &str)> = plan
        .operations
        .iter()
        .filter_map(|s| match &s.op {
            Operation::CreateCohort(new) => Some((new.cohort, new.idnumber.as_str())),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    // Users in the order the changeset first adds them, each with their cohorts.
    let mut users: Vec<(String, Vec<String>)> = Vec::new();
    let mut position: crate::HashMap<i64, usize> = crate::HashMap::default();
    for step in &plan.operations {
        let Operation::AddMember { cohort, user } = &step.op else {
            continue;
        };
        let value = match cohort {
            Ref::Existing(id) => snapshot
                .cohorts
                .iter()
                .find(|c| c.id == *id)
                .filter(|c| !c.idnumber.is_empty())
                .map_or_else(|| id.to_string(), |c| c.idnumber.clone()),
            Ref::New { new } => match new_idnumbers.iter().find(|(n, _)| n == new) {
                Some((_, idnumber)) if !idnumber.is_empty() => (*idnumber).to_owned(),
                _ => {
                    let problem = NotExported::NewCohortWithoutIdnumber(*new);
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                    continue;
                }
            },
        };
        let index = match position.get(user) {
            Some(&index) => index,
            None => {
                let username = snapshot
                    .users
                    .iter()
                    .find(|u| u.id == *user)
                    .map(|u| u.username.as_str())
                    .filter(|u| !u.is_empty());
                let Some(username) = username else {
                    problems.push(NotExported::User(*user));
                    continue;
                };
                position.insert(*user, users.len());
                users.push((username.to_owned(), Vec::new()));
                users.len() - 1
            }
        };
        users[index].1.push(value);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if users.is_empty() {
        return Ok(None);
    }
    let columns = users.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    let mut writer = moodle_writer();
    let mut header = vec!["username".to_owned()];
    header.extend((1..=columns).map(|n| format!("cohort{n}")));
    write(&mut writer, &header);
    for (username, mut cohorts) in users {
        cohorts.resize(columns, String::new());
        let mut row = vec![username];
        row.extend(cohorts);
        write(&mut writer, &row);
    }
    Ok(Some(finish(writer)))
}

/// A writer of Moodle's CSV as its upload screens read it by default: commas, `\n`,
/// UTF-8 without a byte-order mark, quotes only where a cell needs them.
fn moodle_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn write<S: AsRef<[u8]>>(writer: &mut csv::Writer<Vec<u8>>, record: &[S]) {
    writer
        .write_record(record)
        .expect("writing to memory cannot fail");
}

fn finish(writer: csv::Writer<Vec<u8>>) -> String {
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the cells are text")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Code;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A plan exported for Moodle and read back by the readers of Moodle's formats gives
    /// the same site: the same cohorts (but manual, as Moodle's screens make them), in the
    /// same categories, with the same members.
    #[test]
    fn a_plan_exported_for_moodle_reads_back_to_the_same_site() {
        use crate::check::check;
        use crate::model::snapshot_after;
        let site =
            Snapshot::from_json(include_bytes!("../tests/golden/snapshot.json")).expect("golden");
        let file = "cmd;cidnumber;cname;cdescription;userid;ccatcontext\n\
                    add;NEW-A;Nouvelle A, groupe 1;Desc A;U0001;CAT2\n\
                    add;NEW-A;Nouvelle A, groupe 1;;U0002;CAT2\n\
                    add;NEW-B;Nouvelle B;;U0003;\n\
                    add;COH002;COHORT2;;U0004;\n\
                    add;COH001;;;U0001;\n";
        let options = Options::default();
        let plan = check(file.as_bytes(), &site, &options)
            .changeset
            .expect("a clean file");
        let cohorts = moodle_cohort_file(&plan).expect("it creates cohorts");
        let users = moodle_user_file(&plan, &site)
            .expect("every addition can be named")
            .expect("it adds members");
        assert_eq!(
            users,
            "username,cohort1,cohort2\njdupont,NEW-A,COH001\namartin,NEW-A,\n\
             lbernard,NEW-B,\ntbernard,COH002,\n"
        );

        let created = check(cohorts.as_bytes(), &site, &options);
        assert_eq!(
            created.report.kind,
            Some(crate::formats::FileKind::MoodleCohorts)
        );
        let between = snapshot_after(&site, &created.changeset.expect("clean"));
        let joined = check(users.as_bytes(), &between, &options);
        assert_eq!(
            joined.report.kind,
            Some(crate::formats::FileKind::MoodleUserCohorts)
        );
        let through_moodle = snapshot_after(&between, &joined.changeset.expect("clean"));
        let direct = snapshot_after(&site, &plan);
        let view = |s: &Snapshot| -> Vec<_> {
            s.cohorts
                .iter()
                .map(|c| {
                    let mut members = c.members.clone();
                    members.sort_unstable();
                    (
                        c.idnumber.clone(),
                        c.name.clone(),
                        c.description.clone(),
                        c.visible,
                        c.category.clone(),
                        members,
                    )
                })
                .collect()
        };
        assert_eq!(view(&through_moodle), view(&direct));
        let manual = through_moodle
            .cohorts
            .iter()
            .filter(|c| c.idnumber.starts_with("NEW-"))
            .all(|c| c.component.is_empty());
        assert!(manual);
    }

    #[test]
    fn what_moodles_user_file_cannot_name_is_said() {
        use crate::check::check;
        let site =
            Snapshot::from_json(include_bytes!("../tests/golden/snapshot.json")).expect("golden");
        let file = "cmd;cname;userid\nadd;Sans numéro;U0001\n";
        let options = Options {
            cohort_identifier: crate::options::CohortIdentifier::Name,
            ..Options::default()
        };
        let plan = check(file.as_bytes(), &site, &options)
            .changeset
            .expect("clean");
        assert_eq!(
            moodle_user_file(&plan, &site),
            Err(vec![NotExported::NewCohortWithoutIdnumber(0)])
        );
        let hashed = site.for_teacher(b"key");
        let plan = check(
            b"cmd;cidnumber;userid\nadd;COH002;U0001\n",
            &site,
            &Options::default(),
        )
        .changeset
        .expect("clean");
        assert_eq!(
            moodle_user_file(&plan, &hashed),
            Err(vec![NotExported::User(1)])
        );
    }

    #[test]
    fn a_line_takes_its_most_serious_status_and_every_message() {
        let file = b"cmd;userid\nadd;U1\nadd;U2\n";
        let diagnostics = [
            Diagnostic::new(Code::UserSuspended, 2).column("userid"),
            Diagnostic::new(Code::MissingColumn, 1)
                .column("cname")
                .arg(""),
            Diagnostic::new(Code::UserNotFound, 2)
                .column("userid")
                .value("U1")
                .arg("idnumber"),
        ];
        let out = String::from_utf8(annotate(
            file,
            None,
            &diagnostics,
            Lang::En,
            &Options::default(),
        ))
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(lines[1].starts_with("#header;;error;"), "{}", lines[1]);
        assert!(lines[2].starts_with("add;U1;error;"), "{}", lines[2]);
        assert!(
            lines[2].contains(" | "),
            "both messages of line 2: {}",
            lines[2]
        );
        assert_eq!(lines[3], "add;U2;ok;");
    }
}
