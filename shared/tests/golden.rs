//! Golden tests: each file in, the exact diagnostics and plan out.
//!
//! Cases are listed in `tests/golden/cases.json` (file, options, language) and checked
//! against `tests/golden/expected/NAME.json`. After a deliberate change of behaviour, run
//! `BLESS=1 cargo test -p cohortsync-shared --test golden` and review the diff.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::Path;

use cohortsync_shared::check;
use cohortsync_shared::model::snapshot_after;
use cohortsync_shared::options::Options;
use cohortsync_shared::report::{Code, Lang};
use cohortsync_shared::snapshot::Snapshot;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    file: String,
    options: Options,
    #[serde(default)]
    lang: Lang,
    /// The site it is checked against, when not `golden/snapshot.json`: the Moodle-model
    /// cases use `golden/moodle_site.json`, whose enrolment state has manual enrolments,
    /// roles and group memberships beside the bindings'.
    #[serde(default)]
    snapshot: Option<String>,
}

fn load_snapshot(path: &str) -> Snapshot {
    Snapshot::from_json(&std::fs::read(root().join("tests").join(path)).unwrap()).unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_case_gives_its_expected_report_and_plan() {
    let dir = root().join("tests");
    let default_snapshot = load_snapshot("golden/snapshot.json");
    let cases: Vec<Case> =
        serde_json::from_slice(&std::fs::read(dir.join("golden/cases.json")).unwrap()).unwrap();
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    let mut codes_seen = BTreeSet::new();
    for case in &cases {
        let bytes = std::fs::read(dir.join(&case.file)).unwrap();
        let own;
        let snapshot = match &case.snapshot {
            Some(path) => {
                own = load_snapshot(path);
                &own
            }
            None => &default_snapshot,
        };
        let checked = check(&bytes, snapshot, &case.options);
        codes_seen.extend(checked.report.diagnostics.iter().map(|d| d.code));
        let actual = serde_json::to_string_pretty(&checked.to_output(case.lang)).unwrap() + "\n";
        let expected_path = dir
            .join("golden/expected")
            .join(format!("{}.json", case.name));
        if bless {
            std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(_) => failures.push(format!(
                "{}: output differs from {}:\n{actual}",
                case.name,
                expected_path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: {} is missing (BLESS=1 writes it)",
                case.name,
                expected_path.display()
            )),
        }

        // Planning the same file again on the result changes nothing.
        if let Some(changeset) = &checked.changeset {
            let after = snapshot_after(snapshot, changeset);
            let again = check(&bytes, &after, &case.options);
            if let Some(second) = again.changeset
                && (!second.operations.is_empty() || !second.effects.is_empty())
            {
                failures.push(format!(
                    "{}: re-planning after apply gives {:?} {:?}",
                    case.name, second.operations, second.effects
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // A file over 4 GiB is no golden case (decode refuses it with one comparison), and
    // `cohort_in_use` is no longer raised (kept for stored reports).
    let missing: Vec<_> = Code::ALL
        .iter()
        .filter(|c| !codes_seen.contains(c) && !matches!(c, Code::FileTooLarge | Code::CohortInUse))
        .collect();
    assert!(
        missing.is_empty(),
        "no golden case shows these codes: {missing:?}"
    );
}

/// Moodle's last-enrolment cleanup is in the dry run, by name for an admin and by the
/// file's identifier for a teacher: Léa's only enrolment in HIST101 was the cohort's, so
/// her manual "Tutorat" membership and her teacher role there go too; Maëlys keeps hers
/// (she is enrolled by hand as well).
#[test]
fn the_dry_run_names_who_loses_their_last_enrolment() {
    use cohortsync_shared::dry_run::{dry_run, file_identifiers};
    let snapshot = load_snapshot("golden/moodle_site.json");
    let bytes = std::fs::read(root().join("tests/golden/moodle_last_enrolment.csv")).unwrap();
    let plan = check(&bytes, &snapshot, &Options::default())
        .changeset
        .unwrap();
    let told = dry_run(&snapshot, &plan);
    let hist = told
        .courses
        .iter()
        .find(|c| c.shortname == "HIST101")
        .unwrap();
    assert_eq!((hist.unenrolled, hist.left_count), (2, 1));
    assert_eq!(hist.left[0].name.as_deref(), Some("Léa Bernard"));
    let teacher = snapshot.for_teacher(b"key");
    let teacher_plan = check(&bytes, &teacher, &Options::default())
        .changeset
        .unwrap();
    let teachers = dry_run(&teacher, &teacher_plan).for_teacher(&file_identifiers(
        &bytes,
        &teacher_plan,
        &Options::default(),
    ));
    // A browser's snapshot has no enrolment state: the preview counts the unenrolments but
    // cannot know about manual roles; the server's dry run, from the state it reads, does.
    let hist = teachers
        .courses
        .iter()
        .find(|c| c.shortname == "HIST101")
        .unwrap();
    assert_eq!((hist.unenrolled, hist.left_count), (2, 0));
    let admin_for_teacher = told.for_teacher(&file_identifiers(&bytes, &plan, &Options::default()));
    let hist = admin_for_teacher
        .courses
        .iter()
        .find(|c| c.shortname == "HIST101")
        .unwrap();
    assert_eq!(hist.left[0].name, None);
    assert_eq!(hist.left[0].identifier.as_deref(), Some("U0003"));
}
