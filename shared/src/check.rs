//! The one entry point: bytes, snapshot and options in; report and changeset out.

use serde::{Deserialize, Serialize};

use crate::changeset::Changeset;
use crate::options::Options;
use crate::report::{Diagnostics, Omitted, Report};
use crate::rules::{self, Site};
use crate::snapshot::{Snapshot, UserIndex};

/// A report and, when it has no errors, the changeset the file asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// What was found.
    pub report: Report,
    /// The plan; `None` when the report has errors.
    pub changeset: Option<Changeset>,
}

/// Checks a file against a snapshot and plans it.
///
/// Never panics and never fails: every problem of the file is a diagnostic in the report.
///
/// ```
/// use cohortsync_shared::check::check;
/// use cohortsync_shared::options::Options;
/// use cohortsync_shared::snapshot::{Snapshot, User};
///
/// let snapshot = Snapshot {
///     users: vec![User { id: 1, idnumber: "U0001".into(), ..User::default() }],
///     ..Snapshot::default()
/// };
/// let file = b"cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0001;COH001\ndel;L2 Pharmacie;U0404;COH001\n";
/// let checked = check(file, &snapshot, &Options::default());
/// let codes: Vec<_> = checked.report.diagnostics.iter().map(|d| (d.line, d.code.as_str())).collect();
/// assert_eq!(codes, [(3, "user_not_found")]);
/// assert!(checked.changeset.is_none());
/// ```
pub fn check(bytes: &[u8], snapshot: &Snapshot, options: &Options) -> Checked {
    check_with_progress(bytes, snapshot, options, &mut |_| {})
}

/// How far a check has gone, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Progress {
    /// Reading the file: bytes of text read so far, and in all.
    Reading {
        /// Read so far.
        done: usize,
        /// In all.
        total: usize,
    },
    /// Checking rows against the site: rows done, and in all.
    Checking {
        /// Done so far.
        done: usize,
        /// In all.
        total: usize,
    },
}

impl Progress {
    /// Overall progress between 0 and 1: reading counts for the first third.
    pub fn fraction(self) -> f64 {
        let part = |done: usize, total: usize| done as f64 / total.max(1) as f64;
        match self {
            Progress::Reading { done, total } => part(done, total) / 3.0,
            Progress::Checking { done, total } => 1.0 / 3.0 + 2.0 * part(done, total) / 3.0,
        }
    }
}

/// [`check`], calling `progress` now and then (every few thousand rows) so that a long
/// check can show how far it is.
pub fn check_with_progress(
    bytes: &[u8],
    snapshot: &Snapshot,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Checked {
    check_indexed(
        bytes,
        snapshot,
        &UserIndex::new(snapshot),
        options,
        progress,
    )
}

/// [`check_with_progress`] with the snapshot's users indexed beforehand: what a program
/// that checks many files against one snapshot calls, keeping one [`UserIndex`] per
/// snapshot. An index that does not fit the snapshot ([`UserIndex::fits`]) is not used: a
/// fresh one is built.
pub fn check_indexed(
    bytes: &[u8],
    snapshot: &Snapshot,
    users: &UserIndex,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Checked {
    let mut fresh = None;
    let users = users.or_fresh(snapshot, &mut fresh);
    let mut diagnostics = Diagnostics::new();
    let mut report = Report {
        kind: None,
        encoding: None,
        delimiter: None,
        rows: 0,
        diagnostics: Vec::new(),
        omitted: Omitted::default(),
    };
    let Some(table) = crate::decode::decode_reporting(
        bytes,
        options.encoding,
        options.delimiter,
        &mut diagnostics,
        &mut |done, total| progress(Progress::Reading { done, total }),
    ) else {
        (report.diagnostics, report.omitted) = diagnostics.finish();
        return Checked {
            report,
            changeset: None,
        };
    };
    report.encoding = Some(table.encoding);
    report.delimiter = Some(table.delimiter);
    report.rows = table.row_count();
    let Some((kind, columns)) = crate::formats::recognise(&table, &mut diagnostics) else {
        (report.diagnostics, report.omitted) = diagnostics.finish();
        return Checked {
            report,
            changeset: None,
        };
    };
    report.kind = Some(kind);
    let rows = crate::formats::well_formed_rows(&table, &mut diagnostics);
    let site = Site::new(snapshot, users);
    let planned = rules::of(kind)(
        &rows,
        &columns,
        table.header_line,
        &site,
        options,
        &mut diagnostics,
        &mut |done, total| progress(Progress::Checking { done, total }),
    );
    rules::limits::check(
        table.row_count(),
        planned.removals,
        planned.members_before,
        options,
        table.header_line,
        &mut diagnostics,
    );
    (report.diagnostics, report.omitted) = diagnostics.finish();
    let changeset = (!report.has_errors()).then(|| Changeset {
        base_revision: snapshot.revision,
        effects: crate::sync::effects(snapshot, &planned.operations, options.unenrol_action),
        operations: planned.operations,
    });
    Checked { report, changeset }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::FileKind;
    use crate::report::Lang;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A site of one user, of id 1 and idnumber `U1`.
    fn one_user() -> Snapshot {
        Snapshot {
            users: vec![crate::snapshot::User {
                id: 1,
                idnumber: "U1".into(),
                ..crate::snapshot::User::default()
            }],
            ..Snapshot::default()
        }
    }

    /// Each diagnostic of `checked` as its line, code, column and arguments.
    fn line_code_column_args(checked: &Checked) -> Vec<(u32, &str, Option<&str>, Vec<String>)> {
        checked
            .report
            .diagnostics
            .iter()
            .map(|d| (d.line, d.code.as_str(), d.column.as_deref(), d.args.clone()))
            .collect()
    }

    /// Users named by the wrong identifier: every kept `user_not_found` has its hint (the
    /// identifier that finds them), whatever was left out; those left out are counted.
    #[test]
    fn each_user_not_found_that_is_kept_has_its_hint() {
        use crate::report::DIAGNOSTICS_KEPT;
        let extra = 50;
        let snapshot = Snapshot {
            users: (1..=(DIAGNOSTICS_KEPT + extra) as i64)
                .map(|id| crate::snapshot::User {
                    id,
                    username: format!("user{id}"),
                    ..crate::snapshot::User::default()
                })
                .collect(),
            ..Snapshot::default()
        };
        let mut file = String::from("cmd;cidnumber;cname;userid\n");
        for id in 1..=DIAGNOSTICS_KEPT + extra {
            file.push_str(&format!("add;C1;One;user{id}\n"));
        }
        let report = check(file.as_bytes(), &snapshot, &Options::default()).report;
        assert_eq!(report.diagnostics.len(), DIAGNOSTICS_KEPT);
        use crate::report::{Code, Hint};
        let hint = Hint {
            option: "user_identifier".into(),
            value: "username".into(),
        };
        assert!(
            report
                .diagnostics
                .iter()
                .all(|d| d.code == Code::UserNotFound && d.hint.as_ref() == Some(&hint))
        );
        assert_eq!(report.omitted.codes[&Code::UserNotFound], extra);
    }

    #[test]
    fn a_file_of_countless_errors_keeps_the_first_and_counts_them_all() {
        use crate::report::DIAGNOSTICS_KEPT;
        let mut file = String::from("cidnumber\n");
        for _ in 0..25_000 {
            file.push_str("x\n");
        }
        let checked = check(file.as_bytes(), &Snapshot::default(), &Options::default());
        let report = &checked.report;
        assert_eq!(report.diagnostics.len(), DIAGNOSTICS_KEPT);
        assert_eq!(
            report.counts().total(),
            report.diagnostics.len() + report.omitted_count()
        );
        assert!(report.omitted_count() > 0 && report.has_errors());
        // The first by line are kept, in line order.
        assert_eq!(report.diagnostics[0].line, 2);
        assert!(
            report
                .diagnostics
                .windows(2)
                .all(|w| w[0].line <= w[1].line)
        );
        let output = checked.to_output(Lang::En);
        assert!(output.truncated);
        assert_eq!(output.omitted, report.omitted_count());
        assert_eq!(
            output.codes.values().sum::<usize>(),
            report.counts().total()
        );
        let refusal = checked.to_refusal(Lang::En, 100);
        assert_eq!(refusal.diagnostics.len(), 100);
        assert_eq!(refusal.omitted, report.counts().total() - 100);
        assert_eq!(refusal.summary.counts, report.counts());
    }

    /// An index made from another snapshot is not trusted: the check builds its own and
    /// finds what a check without one finds.
    #[test]
    fn an_index_of_another_snapshot_is_not_used() {
        use crate::snapshot::{User, UserIndex};
        let user = |id, idnumber: &str| User {
            id,
            idnumber: idnumber.into(),
            ..User::default()
        };
        let before = Snapshot {
            revision: 1,
            users: vec![user(1, "U1")],
            ..Snapshot::default()
        };
        let after = Snapshot {
            revision: 2,
            users: vec![user(1, "U1"), user(2, "U2")],
            ..Snapshot::default()
        };
        let stale = UserIndex::new(&before);
        assert!(stale.fits(&before) && !stale.fits(&after));
        // A teacher's snapshot of the same revision is another snapshot too.
        assert!(!stale.fits(&before.for_teacher(b"key")));
        let file = b"cmd;cname;userid;cidnumber\nadd;L2;U2;C1\n";
        let options = Options::default();
        let checked = check_indexed(file, &after, &stale, &options, &mut |_| {});
        assert_eq!(checked, check(file, &after, &options));
        assert!(
            checked.report.diagnostics.is_empty(),
            "{:?}",
            checked.report
        );
    }

    /// A NUL character in a cell is refused, in whichever row and column it is; one in a
    /// comment line is no cell's, and refuses nothing.
    #[test]
    fn a_nul_character_in_a_cell_is_refused_and_one_in_a_comment_is_not() {
        let snapshot = one_user();
        let file = b"cmd;cname;userid;cidnumber\nadd;L2;U1;C1\nadd;L2\0x;U1;C2\n";
        let checked = check(file, &snapshot, &Options::default());
        let found = line_code_column_args(&checked);
        assert_eq!(
            found,
            [(
                3,
                "invalid_value",
                Some("cname"),
                vec!["no_nul".to_string()]
            )]
        );
        assert!(checked.changeset.is_none());
        let commented = b"# exported \0 nightly\ncmd;cname;userid;cidnumber\nadd;L2;U1;C1\n";
        let checked = check(commented, &snapshot, &Options::default());
        assert!(
            checked.report.diagnostics.is_empty(),
            "{:?}",
            checked.report
        );
        assert_eq!(checked.changeset.unwrap().operations.len(), 2);
    }

    /// Users are looked up ahead of their rows, many at once: each row still gets its own
    /// user, found, unknown or ambiguous, across the chunks they are looked up in.
    #[test]
    fn each_row_gets_its_own_user_when_users_are_looked_up_ahead() {
        use crate::options::UserIdentifier;
        use crate::snapshot::User;
        let user = |id: i64, email: &str| User {
            id,
            email: email.into(),
            ..User::default()
        };
        let mut users: Vec<User> = (1..=100).map(|id| user(id, &format!("u{id}@x"))).collect();
        users.push(user(101, "twin@x"));
        users.push(user(102, "twin@x"));
        let snapshot = Snapshot {
            users,
            ..Snapshot::default()
        };
        let mut file = String::from("cmd;cidnumber;cname;userid\n");
        for row in 1..=100 {
            let email = match row {
                40 => "nobody@x".to_string(),
                65 => "twin@x".to_string(),
                _ => format!("U{row}@X"),
            };
            file.push_str(&format!("add;C{};Cohort {};{email}\n", row % 3, row % 3));
        }
        let options = Options {
            user_identifier: UserIdentifier::Email,
            ..Options::default()
        };
        let checked = check(file.as_bytes(), &snapshot, &options);
        let found: Vec<_> = checked
            .report
            .diagnostics
            .iter()
            .map(|d| (d.line, d.code.as_str()))
            .collect();
        assert_eq!(found, [(41, "user_not_found"), (66, "user_ambiguous")]);
        // The rows that did not fail add the users they name, by id, to their cohort.
        let checked = check(
            file.replace("nobody@x", "u40@x")
                .replace("twin@x", "u65@x")
                .as_bytes(),
            &snapshot,
            &options,
        );
        let added: Vec<(u32, i64)> = checked
            .changeset
            .expect("a valid file")
            .operations
            .iter()
            .filter_map(|s| match s.op {
                crate::changeset::Operation::AddMember { user, .. } => Some((s.line?, user)),
                _ => None,
            })
            .collect();
        let mut lines: Vec<_> = added.iter().map(|&(line, user)| (line, user + 1)).collect();
        lines.sort_unstable();
        assert_eq!(
            lines,
            (2..=101)
                .map(|line| (line, i64::from(line)))
                .collect::<Vec<_>>()
        );
    }

    /// A value longer than Moodle's column is refused, counted in characters as Moodle
    /// counts them: 254 two-byte characters are a name, 255 one-byte ones are not.
    #[test]
    fn a_cell_longer_than_moodles_column_is_refused_in_characters() {
        let snapshot = one_user();
        let file = format!(
            "cmd;cidnumber;cname;userid\nadd;C1;{};U1\nadd;C2;{};U1\nadd;{};N;U1\nadd;C4;{};U1\n",
            "a".repeat(255),
            "é".repeat(254),
            "x".repeat(101),
            "b".repeat(254),
        );
        let checked = check(file.as_bytes(), &snapshot, &Options::default());
        let found = line_code_column_args(&checked);
        assert_eq!(
            found,
            [
                (
                    2,
                    "invalid_value",
                    Some("cname"),
                    vec!["name_254".to_string()]
                ),
                (
                    4,
                    "invalid_value",
                    Some("cidnumber"),
                    vec!["idnumber_100".to_string()]
                ),
            ]
        );
    }

    /// Each of Moodle's formats is recognised from its header and planned (this runs in
    /// WebAssembly too, as the browser runs it).
    #[test]
    fn moodles_own_formats_are_recognised_and_planned() {
        use crate::changeset::Operation;
        use crate::snapshot::{Cohort, Course, Role, User};
        let snapshot = Snapshot {
            users: vec![User {
                id: 7,
                username: "jdupont".into(),
                ..User::default()
            }],
            cohorts: vec![Cohort {
                id: 3,
                idnumber: "L1".into(),
                name: "Licence 1".into(),
                component: "cohortsync".into(),
                ..Cohort::default()
            }],
            courses: vec![Course {
                id: 9,
                shortname: "MATH101".into(),
                ..Course::default()
            }],
            roles: vec![Role {
                id: 5,
                shortname: "student".into(),
            }],
            ..Snapshot::default()
        };
        let plan = |file: &str| {
            let checked = check(file.as_bytes(), &snapshot, &Options::default());
            let ops: Vec<&'static str> = checked
                .changeset
                .as_ref()
                .map(|c| {
                    c.operations
                        .iter()
                        .map(|s| match s.op {
                            Operation::CreateCohort { .. } => "create_cohort",
                            Operation::AddMember { .. } => "add_member",
                            Operation::CreateBinding { .. } => "create_binding",
                            _ => "other",
                        })
                        .collect()
                })
                .unwrap_or_default();
            (checked.report.kind.map(FileKind::as_str), ops)
        };
        assert_eq!(
            plan("Name,ID Number,visible\nL2,L2,no\n"),
            (Some("moodle_cohorts"), vec!["create_cohort"])
        );
        assert_eq!(
            plan("username,password,cohort1\njdupont,x,L1\n"),
            (Some("moodle_user_cohorts"), vec!["add_member"])
        );
        assert_eq!(
            plan(
                "shortname,enrolment_1,enrolment_1_cohortidnumber,enrolment_1_role\nMATH101,cohort,L1,student\n"
            ),
            (Some("moodle_course_cohorts"), vec!["create_binding"])
        );
        assert_eq!(plan("name,email\nx,y\n"), (None, vec![]));
    }

    #[test]
    fn a_long_check_reports_reading_then_checking_in_order() {
        let mut file = String::from("cmd;cidnumber;cname;userid\n");
        for row in 0..40_000 {
            file.push_str(&format!("add;C{};Cohort {};U{row}\n", row % 10, row % 10));
        }
        let mut seen = Vec::new();
        let checked = check_with_progress(
            file.as_bytes(),
            &Snapshot::default(),
            &Options::default(),
            &mut |p| seen.push(p),
        );
        assert_eq!(checked.report.rows, 40_000);
        let fractions: Vec<f64> = seen.iter().map(|p| p.fraction()).collect();
        assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
        assert!(
            matches!(seen.first(), Some(Progress::Reading { .. })),
            "{seen:?}"
        );
        assert!(
            matches!(seen.last(), Some(Progress::Checking { total: 40_000, .. })),
            "{seen:?}"
        );
        assert!(fractions.iter().all(|f| (0.0..1.0).contains(f)));
    }
}
