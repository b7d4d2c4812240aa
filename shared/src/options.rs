//! The options of a run: how identifiers are matched, what the file may do, safety limits.
//!
//! Every field has a site default ([`Options::default`]); the JSON form uses the same names
//! as the API (`user_identifier`, `mode`, …) and refuses unknown keys, so a typo in a script
//! is an error rather than a silently ignored option.

use serde::{Deserialize, Serialize};

/// How the `userid` column of a cohort file finds a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserIdentifier {
    /// Moodle's numeric user id.
    Id,
    /// The institution's id number (default).
    #[default]
    Idnumber,
    /// The login name (compared case-insensitively, as Moodle stores it lowercased).
    Username,
    /// The email address (case-insensitive; not unique in Moodle, so it can be ambiguous).
    Email,
}

/// How a cohort is found from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CohortIdentifier {
    /// Moodle's numeric cohort id.
    Id,
    /// The cohort's id number (default).
    #[default]
    Idnumber,
    /// The cohort's name (not unique in Moodle, so it can be ambiguous).
    Name,
}

/// How the `course` column of a binding file finds a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CourseIdentifier {
    /// Moodle's numeric course id.
    Id,
    /// The course id number.
    Idnumber,
    /// The course short name (default; unique in Moodle).
    #[default]
    Shortname,
}

/// How the `role` column of a binding file finds a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleIdentifier {
    /// Moodle's numeric role id.
    Id,
    /// The role short name, e.g. `student` (default).
    #[default]
    Shortname,
}

/// What a file means for members it does not mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only what the file says is done (default).
    #[default]
    Incremental,
    /// The file is the whole truth for the cohorts it names: their members absent from the
    /// file are removed (nightly exports from a directory). Hand-made cohorts keep theirs.
    Full,
}

/// What happens to a course enrolment when its user leaves the cohort (a site setting in
/// Moodle's cohort sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnenrolAction {
    /// The user is unenrolled from the course (default).
    #[default]
    Unenrol,
    /// The enrolment is suspended; the role is kept.
    Suspend,
    /// The enrolment is suspended and the roles given by the binding removed.
    SuspendAndRemoveRoles,
}

/// Which text encoding to read the file with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingChoice {
    /// Detect: a byte-order mark, else UTF-8 if valid, else Windows-1252 with a warning.
    #[default]
    Auto,
    /// UTF-8 (a byte-order mark is skipped).
    Utf8,
    /// UTF-16, little-endian.
    Utf16le,
    /// UTF-16, big-endian.
    Utf16be,
    /// Windows-1252, what French Excel writes as "CSV".
    Windows1252,
}

/// Which delimiter separates the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DelimiterChoice {
    /// Detect from the header line (default).
    #[default]
    Auto,
    /// `,`
    Comma,
    /// `;`
    Semicolon,
    /// A tab character.
    Tab,
}

/// The options of one run. Missing JSON keys take the site defaults.
///
/// ```
/// use cohortsync_shared::options::{Mode, Options, UserIdentifier};
///
/// let options: Options = serde_json::from_str(r#"{"user_identifier": "email", "mode": "full"}"#).unwrap();
/// assert_eq!(options.user_identifier, UserIdentifier::Email);
/// assert_eq!(options.mode, Mode::Full);
/// assert!(options.create_missing);
/// assert!(serde_json::from_str::<Options>(r#"{"mdoe": "full"}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// How users are found.
    pub user_identifier: UserIdentifier,
    /// How cohorts are found.
    pub cohort_identifier: CohortIdentifier,
    /// How courses are found.
    pub course_identifier: CourseIdentifier,
    /// How roles are found.
    pub role_identifier: RoleIdentifier,
    /// Incremental or full.
    pub mode: Mode,
    /// Create the cohorts a file adds members to when they do not exist (default on).
    pub create_missing: bool,
    /// Delete cohorts owned by cohortsync that end up empty and that no binding uses.
    pub cleanup_empty: bool,
    /// What happens to enrolments of members who leave a cohort.
    pub unenrol_action: UnenrolAction,
    /// At most this many members removed (and enrolments lost) by one file.
    pub max_removals: Option<u64>,
    /// In full mode, at most this percentage of the members of the file's cohorts removed
    /// (default 25: a truncated export must not empty the site).
    pub max_removals_percent: Option<f64>,
    /// At least this many data rows (a truncated export is refused).
    pub min_rows: Option<u64>,
    /// An admin's explicit decision to go beyond the limits: they become warnings.
    pub override_limits: bool,
    /// Text encoding of the file.
    pub encoding: EncodingChoice,
    /// Cell delimiter of the file.
    pub delimiter: DelimiterChoice,
    /// Where a Moodle cohort upload file's cohorts go when a row names no context: a
    /// category, by path ("Sciences / Mathématiques"), else id when numeric, else idnumber
    /// (Moodle's *default context*). Empty: the system context.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub default_category: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            user_identifier: UserIdentifier::default(),
            cohort_identifier: CohortIdentifier::default(),
            course_identifier: CourseIdentifier::default(),
            role_identifier: RoleIdentifier::default(),
            mode: Mode::default(),
            create_missing: true,
            cleanup_empty: false,
            unenrol_action: UnenrolAction::default(),
            max_removals: None,
            max_removals_percent: Some(25.0),
            min_rows: None,
            override_limits: false,
            encoding: EncodingChoice::default(),
            delimiter: DelimiterChoice::default(),
            default_category: String::new(),
        }
    }
}

impl Options {
    /// Why these options cannot be a site's defaults, if they cannot: a percentage outside
    /// 0–100, or `override_limits` (an admin's decision for one file, not a default).
    ///
    /// ```
    /// use cohortsync_shared::options::Options;
    /// assert_eq!(Options::default().problem_as_site_defaults(), None);
    /// let odd = Options { max_removals_percent: Some(250.0), ..Options::default() };
    /// assert!(odd.problem_as_site_defaults().unwrap().contains("250"));
    /// ```
    pub fn problem_as_site_defaults(&self) -> Option<String> {
        if let Some(percent) = self.max_removals_percent
            && !(0.0..=100.0).contains(&percent)
        {
            return Some(format!(
                "max_removals_percent is a percentage (0 to 100), not {percent}"
            ));
        }
        self.override_limits.then(|| {
            "override_limits is an admin's decision for one file, not a site default".to_owned()
        })
    }

    /// The options a teacher chose beyond what the site allows, by name: the unenrol action
    /// is the site's to decide, and a teacher may tighten the safety limits, never loosen
    /// them (overriding them is an admin's decision). Empty: the teacher may submit these.
    ///
    /// ```
    /// use cohortsync_shared::options::{Options, UnenrolAction};
    ///
    /// let site = Options { max_removals: Some(100), ..Options::default() };
    /// let tighter = Options { max_removals: Some(10), ..site.clone() };
    /// assert!(tighter.exceeds_site(&site).is_empty());
    /// let looser = Options {
    ///     max_removals: None,
    ///     unenrol_action: UnenrolAction::Suspend,
    ///     ..site.clone()
    /// };
    /// assert_eq!(looser.exceeds_site(&site), ["unenrol_action", "max_removals"]);
    /// ```
    pub fn exceeds_site(&self, site: &Options) -> Vec<&'static str> {
        // A limit `None` is no limit; a looser maximum is a larger one.
        fn looser_max<T: PartialOrd + Copy>(mine: Option<T>, site: Option<T>) -> bool {
            match (mine, site) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(mine), Some(site)) => mine > site,
            }
        }
        let mut beyond = Vec::new();
        if self.unenrol_action != site.unenrol_action {
            beyond.push("unenrol_action");
        }
        if looser_max(self.max_removals, site.max_removals) {
            beyond.push("max_removals");
        }
        if looser_max(self.max_removals_percent, site.max_removals_percent) {
            beyond.push("max_removals_percent");
        }
        let looser_min = match (self.min_rows, site.min_rows) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(mine), Some(site)) => mine < site,
        };
        if looser_min {
            beyond.push("min_rows");
        }
        if self.override_limits {
            beyond.push("override_limits");
        }
        beyond
    }
}

/// Each option enum's values and their names on the wire (the names serde uses, which a
/// test checks), written once: the web app's forms and the messages take them from here.
macro_rules! option_values {
    ($($name:ident { $($variant:ident = $value:literal),* $(,)? })*) => {$(
        impl $name {
            /// Every value, in the order forms offer them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value as written in files, flags and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value),* }
            }
        }
    )*};
}

option_values! {
    UserIdentifier { Idnumber = "idnumber", Username = "username", Email = "email", Id = "id" }
    CohortIdentifier { Idnumber = "idnumber", Name = "name", Id = "id" }
    CourseIdentifier { Shortname = "shortname", Idnumber = "idnumber", Id = "id" }
    RoleIdentifier { Shortname = "shortname", Id = "id" }
    Mode { Incremental = "incremental", Full = "full" }
    UnenrolAction {
        Unenrol = "unenrol",
        Suspend = "suspend",
        SuspendAndRemoveRoles = "suspend_and_remove_roles",
    }
    EncodingChoice {
        Auto = "auto",
        Utf8 = "utf8",
        Utf16le = "utf16le",
        Utf16be = "utf16be",
        Windows1252 = "windows1252",
    }
    DelimiterChoice { Auto = "auto", Semicolon = "semicolon", Comma = "comma", Tab = "tab" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_option_value_is_named_as_serde_names_it() {
        fn check<T: Serialize + Copy>(all: &[T], name: impl Fn(T) -> &'static str) {
            for &value in all {
                let json = serde_json::to_string(&value).unwrap();
                assert_eq!(json, format!("\"{}\"", name(value)));
            }
        }
        check(UserIdentifier::ALL, UserIdentifier::as_str);
        check(CohortIdentifier::ALL, CohortIdentifier::as_str);
        check(CourseIdentifier::ALL, CourseIdentifier::as_str);
        check(RoleIdentifier::ALL, RoleIdentifier::as_str);
        check(Mode::ALL, Mode::as_str);
        check(UnenrolAction::ALL, UnenrolAction::as_str);
        check(EncodingChoice::ALL, EncodingChoice::as_str);
        check(DelimiterChoice::ALL, DelimiterChoice::as_str);
        assert_eq!(UserIdentifier::ALL.len(), 4);
        assert_eq!(EncodingChoice::ALL.len(), 5);
    }
}
