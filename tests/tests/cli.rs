//! `cohortsync validate`, the real binary on the shared crate's sample files.

use std::process::Output;

use cohortsync_e2e::{binary_path, repo_root};
use serde_json::Value;

fn validate(args: &[&str]) -> anyhow::Result<Output> {
    let root = repo_root().join("shared/tests");
    let output = std::process::Command::new(binary_path()?)
        .arg("validate")
        .args(args)
        .arg("--snapshot")
        .arg(root.join("golden/snapshot.json"))
        .current_dir(root)
        .output()?;
    Ok(output)
}

#[test]
fn a_clean_file_exits_0_with_its_plan() -> anyhow::Result<()> {
    let output = validate(&[
        "samples/toolsync_cohort_create_sample.csv",
        "--format",
        "json",
    ])?;
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(json["ok"], true);
    assert_eq!(json["kind"], "cohorts");
    assert_eq!(json["delimiter"], ";");
    assert_eq!(json["summary"]["members_added"], 13);
    let first = &json["changeset"]["operations"][0];
    assert_eq!(first["op"], "add_member");
    assert_eq!(
        (
            first["line"].as_u64(),
            first["cohort"].as_i64(),
            first["user"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    Ok(())
}

#[test]
fn errors_exit_1_and_a_failed_lookup_deletes_nothing() -> anyhow::Result<()> {
    let output = validate(&[
        "samples/toolsync_cohort_delete_sample.csv",
        "--cohort-id",
        "id",
        "--format",
        "json",
    ])?;
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(json["ok"], false);
    assert!(json["changeset"].is_null());
    let first = &json["diagnostics"][0];
    assert_eq!(
        (first["line"].as_u64(), first["code"].as_str()),
        (Some(2), Some("invalid_value"))
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("cohort_identifier = name")
    );
    Ok(())
}

#[test]
fn text_output_is_grouped_and_translated() -> anyhow::Result<()> {
    let output = validate(&[
        "samples/toolsync_cohort_delete_sample.csv",
        "--cohort-id",
        "name",
        "--lang",
        "fr",
    ])?;
    let text = String::from_utf8(output.stdout)?;
    assert!(text.contains("error[cohort_not_found] × 1"), "{text}");
    assert!(text.contains("info[not_member] × 2"), "{text}");
    assert!(
        text.contains("ligne 6, cid = \"COHORT4\": Aucune cohorte"),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_wrong_flag_is_a_usage_error_exit_2() -> anyhow::Result<()> {
    let output = validate(&[
        "samples/toolsync_cohort_create_sample.csv",
        "--mode",
        "mirror",
    ])?;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("mirror"));
    Ok(())
}

#[test]
fn the_snapshots_site_defaults_are_where_options_start_and_flags_override_them()
-> anyhow::Result<()> {
    let root = repo_root().join("shared/tests");
    let mut snapshot: Value =
        serde_json::from_slice(&std::fs::read(root.join("golden/snapshot.json"))?)?;
    snapshot["defaults"] = serde_json::json!({"cohort_identifier": "name"});
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, serde_json::to_vec(&snapshot)?)?;
    let run = |flags: &[&str]| -> anyhow::Result<Option<i32>> {
        let output = std::process::Command::new(binary_path()?)
            .arg("validate")
            .arg("samples/toolsync_cohort_create_sample_by_name.csv")
            .args(flags)
            .arg("--snapshot")
            .arg(&path)
            .current_dir(&root)
            .output()?;
        Ok(output.status.code())
    };
    // Cohorts by name, as the site says: the file is clean.
    assert_eq!(run(&[])?, Some(0));
    // A flag overrides the site: by id number, the file's cohort keys are not found.
    assert_eq!(run(&["--cohort-id", "idnumber"])?, Some(1));
    // Contradicting flags are a usage error.
    assert_eq!(run(&["--create-missing", "--no-create-missing"])?, Some(2));
    Ok(())
}

#[test]
fn a_file_of_countless_errors_lists_the_first_and_says_how_many_more() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("x.csv");
    std::fs::write(&path, format!("cidnumber\n{}", "x\n".repeat(25_000)))?;
    let path = path.to_str().unwrap_or_default();
    let output = validate(&[path])?;
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout)?;
    assert!(
        text.contains("25000 error(s)"),
        "{}",
        &text[..400.min(text.len())]
    );
    assert!(
        text.contains("(the first 10000 are listed; 15000 more are counted, not listed)"),
        "{}",
        &text[..400.min(text.len())]
    );
    assert!(text.contains("error[empty_value] × 25000"));
    let output = validate(&[path, "--format", "json"])?;
    let json: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(json["truncated"], true);
    assert_eq!(json["omitted"], 15_000);
    assert_eq!(json["diagnostics"].as_array().map(Vec::len), Some(10_000));
    assert_eq!(json["codes"]["empty_value"], 25_000);
    Ok(())
}

/// Moodle's own files: the kind is named in the JSON and the text, and the default
/// category comes from its flag.
#[test]
fn moodles_own_files_are_named_and_checked() -> anyhow::Result<()> {
    let output = validate(&[
        "samples/moodle_cohortupload_uploadcohorts2.csv",
        "--format",
        "json",
        "--default-category",
        "Cat 1 / Cat 3",
    ])?;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(json["kind"], "moodle_cohorts");
    assert_eq!(json["summary"]["cohorts_created"], 7);
    // "Miscellaneous" is no category of the site: the default one, with a warning.
    assert_eq!(json["diagnostics"][0]["code"], "category_not_found");
    assert_eq!(json["changeset"]["operations"][0]["category_id"], 4);

    let output = validate(&["samples/moodle_upload_users_cohorts.csv", "--lang", "fr"])?;
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout)?;
    assert!(
        text.starts_with(
            "samples/moodle_upload_users_cohorts.csv: fichier d’import d’utilisateurs Moodle"
        ),
        "{text}"
    );
    assert!(text.contains("user_not_found"), "{text}");
    Ok(())
}
