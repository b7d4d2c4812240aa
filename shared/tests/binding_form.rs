//! The binding form writes a binding file (`formats::binding_file`): the rules read back
//! exactly what the person chose, whatever the name holds.
#![cfg(not(target_arch = "wasm32"))]

use cohortsync_shared::changeset::{Operation, Ref};
use cohortsync_shared::check;
use cohortsync_shared::formats::{BindingRow, GroupChoice, RowCommand, binding_file};
use cohortsync_shared::options::Options;
use cohortsync_shared::snapshot::{BindingStatus, Group, Snapshot};

fn site() -> Snapshot {
    Snapshot::from_json(include_bytes!("golden/snapshot.json")).unwrap()
}

#[test]
fn a_name_with_delimiters_quotes_and_a_line_break_comes_back_whole() {
    let site = site();
    let name = "L2 \"Pharma\"; groupe A,\nsemestre 1";
    let file = binding_file(&[BindingRow {
        command: RowCommand::Add,
        dates: None,
        new_role: "",
        cohort: "COH003",
        course: "TESTCOURSE3",
        role: "teacher",
        group: GroupChoice::NamedAfterCohort,
        name,
        status: BindingStatus::Disabled,
    }]);
    let checked = check(file.as_bytes(), &site, &Options::default());
    assert!(!checked.report.has_errors(), "{file}: {:?}", checked.report);
    let operations = checked.changeset.unwrap().operations;
    let created = operations
        .iter()
        .find_map(|s| match &s.op {
            Operation::CreateBinding(new) => Some((
                new.name.clone(),
                new.status,
                new.group,
                new.course,
                new.cohort,
                new.role,
            )),
            _ => None,
        })
        .expect("a binding is created");
    assert_eq!(
        created,
        (
            name.to_owned(),
            BindingStatus::Disabled,
            Some(Ref::New { new: 0 }),
            103,
            3,
            4
        )
    );
}

#[test]
fn an_existing_group_named_like_a_keyword_is_named_by_its_id_number() {
    let mut site = site();
    site.groups.push(Group {
        id: 32,
        course: 103,
        name: "1".into(),
        idnumber: "G-ONE".into(),
    });
    let group = site.groups.last().unwrap().clone();
    let file = binding_file(&[BindingRow {
        command: RowCommand::Add,
        dates: None,
        new_role: "",
        cohort: "COH003",
        course: "TESTCOURSE3",
        role: "student",
        group: GroupChoice::Existing(&group),
        name: "",
        status: BindingStatus::Active,
    }]);
    let checked = check(file.as_bytes(), &site, &Options::default());
    let operations = checked.changeset.expect("no errors").operations;
    assert!(
        operations.iter().any(|s| matches!(
            &s.op,
            Operation::CreateBinding(new) if new.group == Some(Ref::Existing(32))
        )),
        "{operations:?}"
    );
}
