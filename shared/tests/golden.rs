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
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_case_gives_its_expected_report_and_plan() {
    let dir = root().join("tests");
    let snapshot =
        Snapshot::from_json(&std::fs::read(dir.join("golden/snapshot.json")).unwrap()).unwrap();
    let cases: Vec<Case> =
        serde_json::from_slice(&std::fs::read(dir.join("golden/cases.json")).unwrap()).unwrap();
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    let mut codes_seen = BTreeSet::new();
    for case in &cases {
        let bytes = std::fs::read(dir.join(&case.file)).unwrap();
        let checked = check(&bytes, &snapshot, &case.options);
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
            let after = snapshot_after(&snapshot, changeset);
            let again = check(&bytes, &after, &case.options);
            if let Some(second) = again.changeset
                && !second.operations.is_empty()
            {
                failures.push(format!(
                    "{}: re-planning after apply gives {:?}",
                    case.name, second.operations
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // A file over 4 GiB is no golden case (decode refuses it with one comparison).
    let missing: Vec<_> = Code::ALL
        .iter()
        .filter(|c| !codes_seen.contains(c) && **c != Code::FileTooLarge)
        .collect();
    assert!(
        missing.is_empty(),
        "no golden case shows these codes: {missing:?}"
    );
}
