//! `cohortsync validate`: check a file offline against a snapshot, with the same rules as
//! the browser and the server.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use cohortsync_shared::options::{
    CohortIdentifier, CourseIdentifier, DelimiterChoice, EncodingChoice, Mode, Options,
    RoleIdentifier, UnenrolAction, UserIdentifier,
};
use cohortsync_shared::report::Lang;
use cohortsync_shared::snapshot::Snapshot;

/// Flags of `cohortsync validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The CSV file to check.
    pub file: PathBuf,
    /// The site snapshot (JSON, as `GET /api/snapshot` returns it).
    #[arg(long, required_unless_present = "moodle_db_url")]
    pub snapshot: Option<PathBuf>,
    /// Or read the snapshot straight from a Moodle database: `postgres://…` or
    /// `mysql://…` (MariaDB too). Reads only.
    #[arg(long, conflicts_with = "snapshot")]
    pub moodle_db_url: Option<String>,
    /// The prefix of Moodle's tables, with `--moodle-db-url`.
    #[arg(long, default_value = "mdl_", requires = "moodle_db_url")]
    pub moodle_prefix: String,
    /// The `component` of the cohorts cohortsync manages in Moodle, with `--moodle-db-url`.
    #[arg(long, default_value = "local_cohortsync", requires = "moodle_db_url")]
    pub moodle_component: String,
    // Every option below starts from the snapshot's site defaults (`defaults`), which
    // start from the built-in ones (given in brackets); a flag overrides.
    /// How users are found [idnumber].
    #[arg(long, value_parser = shared_values(UserIdentifier::ALL, UserIdentifier::as_str))]
    pub user_id: Option<UserIdentifier>,
    /// How cohorts are found [idnumber].
    #[arg(long, value_parser = shared_values(CohortIdentifier::ALL, CohortIdentifier::as_str))]
    pub cohort_id: Option<CohortIdentifier>,
    /// How courses are found [shortname].
    #[arg(long, value_parser = shared_values(CourseIdentifier::ALL, CourseIdentifier::as_str))]
    pub course_id: Option<CourseIdentifier>,
    /// How roles are found [shortname].
    #[arg(long, value_parser = shared_values(RoleIdentifier::ALL, RoleIdentifier::as_str))]
    pub role_id: Option<RoleIdentifier>,
    /// incremental: only what the file says; full: members absent from the file are
    /// removed [incremental].
    #[arg(long, value_parser = shared_values(Mode::ALL, Mode::as_str))]
    pub mode: Option<Mode>,
    /// Do not create the cohorts the file adds members to [they are created].
    #[arg(long, conflicts_with = "create_missing")]
    pub no_create_missing: bool,
    /// Create the cohorts the file adds members to (when the site's defaults do not).
    #[arg(long)]
    pub create_missing: bool,
    /// Delete cohorts managed by cohortsync that end up empty and unbound [they are kept].
    #[arg(long, conflicts_with = "no_cleanup_empty")]
    pub cleanup_empty: bool,
    /// Keep cohorts that end up empty (when the site's defaults delete them).
    #[arg(long)]
    pub no_cleanup_empty: bool,
    /// What happens to the enrolments of members who leave a cohort [unenrol].
    #[arg(long, value_parser = shared_values(UnenrolAction::ALL, UnenrolAction::as_str))]
    pub unenrol_action: Option<UnenrolAction>,
    /// At most this many removals [none].
    #[arg(long, value_name = "N")]
    pub max_removals: Option<u64>,
    /// In full mode, at most this percentage of the members removed [25].
    #[arg(long, value_name = "P")]
    pub max_removals_percent: Option<f64>,
    /// At least this many data rows [none].
    #[arg(long, value_name = "N")]
    pub min_rows: Option<u64>,
    /// Go beyond the limits (they become warnings).
    #[arg(long)]
    pub override_limits: bool,
    /// Text encoding of the file [auto].
    #[arg(long, value_parser = shared_values(EncodingChoice::ALL, EncodingChoice::as_str))]
    pub encoding: Option<EncodingChoice>,
    /// Cell delimiter [auto].
    #[arg(long, value_parser = shared_values(DelimiterChoice::ALL, DelimiterChoice::as_str))]
    pub delimiter: Option<DelimiterChoice>,
    /// Where a Moodle cohort upload file's cohorts go when a row names no context: a
    /// category by path ("Sciences / Mathématiques"), id or idnumber [the system context].
    #[arg(long, value_name = "CATEGORY")]
    pub default_category: Option<String>,
    /// Language of the messages.
    #[arg(long, value_parser = shared_values(Lang::ALL, Lang::as_str), default_value = "en")]
    pub lang: Lang,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
}

/// The parser of a flag whose values are those of an option enum of `cohortsync_shared`
/// (`all`, named by `name`): the names are shared's, as in JSON and the API, and a `-` may
/// stand for each `_` (`suspend-and-remove-roles`).
fn shared_values<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    let values = all.iter().map(move |&v| {
        let value = PossibleValue::new(name(v));
        match name(v).replace('_', "-") {
            kebab if kebab != name(v) => value.alias(kebab),
            _ => value,
        }
    });
    PossibleValuesParser::new(values).map(move |given: String| {
        let given = given.replace('-', "_");
        *all.iter()
            .find(|v| name(**v) == given)
            .expect("clap accepts only the possible values")
    })
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Grouped, for a person in a terminal.
    Text,
    /// The JSON report, for scripts.
    Json,
}

impl ValidateArgs {
    /// The run's options: the site's `defaults` (a snapshot's), overridden by the flags.
    pub fn options(&self, defaults: &Options) -> Options {
        fn or<T: Copy>(flag: Option<T>, default: &T) -> T {
            flag.unwrap_or(*default)
        }
        Options {
            user_identifier: or(self.user_id, &defaults.user_identifier),
            cohort_identifier: or(self.cohort_id, &defaults.cohort_identifier),
            course_identifier: or(self.course_id, &defaults.course_identifier),
            role_identifier: or(self.role_id, &defaults.role_identifier),
            mode: or(self.mode, &defaults.mode),
            create_missing: (defaults.create_missing || self.create_missing)
                && !self.no_create_missing,
            cleanup_empty: (defaults.cleanup_empty || self.cleanup_empty) && !self.no_cleanup_empty,
            unenrol_action: or(self.unenrol_action, &defaults.unenrol_action),
            max_removals: self.max_removals.or(defaults.max_removals),
            max_removals_percent: self.max_removals_percent.or(defaults.max_removals_percent),
            min_rows: self.min_rows.or(defaults.min_rows),
            override_limits: self.override_limits,
            encoding: or(self.encoding, &defaults.encoding),
            delimiter: or(self.delimiter, &defaults.delimiter),
            default_category: self
                .default_category
                .clone()
                .unwrap_or_else(|| defaults.default_category.clone()),
        }
    }
}

/// Runs `validate`: exit 0 without errors, 1 with errors (2 on usage errors, from clap).
pub async fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut moodle = None;
    let snapshot = match (&args.snapshot, &args.moodle_db_url) {
        (_, Some(url)) => {
            let site = crate::moodle::Moodle::connect(url, &args.moodle_prefix).await?;
            let snapshot = site.load_snapshot(&args.moodle_component).await?;
            moodle = Some(site);
            snapshot
        }
        (Some(path), None) => {
            let json =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Snapshot::from_json(&json)
                .with_context(|| format!("{} is not a snapshot", path.display()))?
        }
        (None, None) => anyhow::bail!("give --snapshot FILE or --moodle-db-url URL"),
    };
    let options = args.options(&snapshot.defaults);
    let mut checked = cohortsync_shared::check(&bytes, &snapshot, &options);
    // Against Moodle, the effects come from the state of the courses the plan touches (a
    // snapshot file carries its own state, or none).
    if let (Some(site), Some(plan)) = (&moodle, &mut checked.changeset) {
        let courses = cohortsync_shared::sync::courses_touched(&snapshot, &plan.operations);
        if !courses.is_empty() {
            let mut snapshot = snapshot.clone();
            let mut conn = site.pool().acquire().await?;
            snapshot.enrolments = Some(
                site.enrolment_state_on(&mut conn, &snapshot.bindings, &courses)
                    .await?,
            );
            plan.effects = cohortsync_shared::sync::effects(
                &snapshot,
                &plan.operations,
                options.unenrol_action,
            );
        }
    }
    let lang = args.lang;
    match args.format {
        FormatArg::Json => println!(
            "{}",
            serde_json::to_string_pretty(&checked.to_output(lang))?
        ),
        FormatArg::Text => print!(
            "{}",
            cohortsync_shared::report::text::render(
                &args.file.display().to_string(),
                &checked.report,
                checked.changeset.as_ref().map(|c| c.totals()),
                lang
            )
        ),
    }
    Ok(if checked.report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
