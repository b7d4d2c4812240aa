//! What the fuzz targets share: a small fixed site and options drawn from input bytes.

use cohortsync_shared::options::{
    CohortIdentifier, CourseIdentifier, DelimiterChoice, EncodingChoice, Mode, Options,
    RoleIdentifier, UnenrolAction, UserIdentifier,
};
use cohortsync_shared::snapshot::Snapshot;

/// The golden tests' site: users (one suspended, two sharing an email), cohorts of every
/// owner, courses with groups, bindings.
pub fn snapshot() -> Snapshot {
    Snapshot::from_json(include_bytes!("../../shared/tests/golden/snapshot.json"))
        .expect("the golden snapshot reads")
}

/// Options chosen by the first bytes of `seed` (every choice reachable), and the rest of
/// the input.
pub fn options(input: &[u8]) -> (Options, &[u8]) {
    let (seed, rest) = input.split_at(input.len().min(4));
    let byte = |i: usize| seed.get(i).copied().unwrap_or(0);
    let (a, b, c, d) = (byte(0), byte(1), byte(2), byte(3));
    let options = Options {
        user_identifier: [
            UserIdentifier::Id,
            UserIdentifier::Idnumber,
            UserIdentifier::Username,
            UserIdentifier::Email,
        ][usize::from(a % 4)],
        cohort_identifier: [
            CohortIdentifier::Id,
            CohortIdentifier::Idnumber,
            CohortIdentifier::Name,
        ][usize::from((a >> 2) % 3)],
        course_identifier: [
            CourseIdentifier::Id,
            CourseIdentifier::Idnumber,
            CourseIdentifier::Shortname,
        ][usize::from((a >> 4) % 3)],
        role_identifier: [RoleIdentifier::Id, RoleIdentifier::Shortname][usize::from(a >> 7)],
        mode: [Mode::Incremental, Mode::Full][usize::from(b & 1)],
        create_missing: b & 2 != 0,
        cleanup_empty: b & 4 != 0,
        override_limits: b & 8 != 0,
        unenrol_action: [
            UnenrolAction::Unenrol,
            UnenrolAction::Suspend,
            UnenrolAction::SuspendAndRemoveRoles,
        ][usize::from((b >> 4) % 3)],
        max_removals: (c & 1 != 0).then_some(u64::from(c >> 1)),
        max_removals_percent: (c & 2 != 0).then_some(f64::from(c) / 2.55),
        min_rows: (d & 1 != 0).then_some(u64::from(d >> 4)),
        encoding: [
            EncodingChoice::Auto,
            EncodingChoice::Utf8,
            EncodingChoice::Utf16le,
            EncodingChoice::Utf16be,
            EncodingChoice::Windows1252,
        ][usize::from((d >> 1) % 5)],
        delimiter: [
            DelimiterChoice::Auto,
            DelimiterChoice::Comma,
            DelimiterChoice::Semicolon,
            DelimiterChoice::Tab,
        ][usize::from((d >> 4) % 4)],
        // Names the golden site's categories, by path, idnumber and id, or none.
        default_category: ["", "Cat 1 / Cat 3", "CAT2", "1"][usize::from(c >> 6)].to_owned(),
    };
    (options, rest)
}

/// Everything a file goes through: the check, and with a plan the dry run, the pure apply
/// and a second check on the result; always the JSON answer and the annotated copy.
pub fn exercise(file: &[u8], options: &Options, snapshot: &Snapshot) {
    let checked = cohortsync_shared::check(file, snapshot, options);
    let report = &checked.report;
    assert_eq!(
        report.counts().total(),
        report.diagnostics.len() + report.omitted_count()
    );
    assert_eq!(checked.changeset.is_some(), !report.has_errors());
    let _ = serde_json::to_vec(&checked.to_output(Default::default()));
    let _ = cohortsync_shared::export::annotate(
        file,
        report.kind,
        &report.diagnostics,
        Default::default(),
        options,
    );
    if let Some(plan) = &checked.changeset {
        let _ = cohortsync_shared::dry_run::dry_run(snapshot, plan);
        let after = cohortsync_shared::model::snapshot_after(snapshot, plan);
        let _ = cohortsync_shared::check(file, &after, options);
    }
}
