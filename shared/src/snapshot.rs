//! The snapshot: a copy of the site's directory that files are checked against.
//!
//! Its JSON form is the API's `GET /api/snapshot` body:
//!
//! ```json
//! {"revision": 7,
//!  "users": [{"id": 1, "username": "jdupont", "idnumber": "U0001", "email": "jean.dupont@univ.example",
//!             "firstname": "Jean", "lastname": "Dupont", "suspended": false}],
//!  "cohorts": [{"id": 1, "idnumber": "COH001", "name": "L2 Pharmacie", "description": "",
//!               "visible": true, "component": "", "members": [1]}],
//!  "courses": [{"id": 1, "shortname": "PHARMA-L2", "idnumber": "", "fullname": "Pharmacie L2"}],
//!  "categories": [{"id": 2, "name": "Sciences économiques", "idnumber": "FAC-ECO", "parent": 0}],
//!  "roles": [{"id": 5, "shortname": "student"}],
//!  "groups": [{"id": 1, "course": 1, "name": "TD1", "idnumber": ""}],
//!  "bindings": [{"id": 1, "course": 1, "cohort": 1, "role": 5, "group": null, "name": "", "status": "active"}]}
//! ```
//!
//! Extra fields are ignored and missing optional fields take defaults.
//!
//! **Teacher variant.** A teacher's snapshot ([`Snapshot::for_teacher`]) carries no names,
//! emails, usernames or idnumbers of users: each user has `hashes`, keyed hashes
//! (HMAC-SHA-256, truncated to 48 bits: [`USER_HASH_HEX`]) of their normalised
//! identifiers, and the snapshot carries the key in `user_hash_key`. A file's identifiers
//! are hashed the same way, to the length the snapshot's hashes have (snapshots cached before
//! hashes were shortened have 64 or 128 bits), and looked up, so the same validation runs on
//! both variants. An offline copy on a shared
//! computer is then not a directory dump: reading it needs a candidate identifier to test.
//! Its JSON is the compact form (`compact.rs`): users as columns, hashes in base64, members
//! as differences; the plain form above still reads.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::options::{Options, UserIdentifier};

mod changes;
mod compact;
mod index;

pub use changes::{ListChanges, MemberChanges, SnapshotChanges};
pub use index::UserIndex;
pub(crate) use index::{KeyTable, UserLookup};

/// A copy of the site at one revision. Written as JSON by hand (`compact.rs`): a teacher's
/// variant in the compact form, an admin's in the plain one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    /// The site revision this copy was taken at.
    pub revision: u64,
    /// Present in a teacher's snapshot: the hex key users' identifiers are hashed with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_hash_key: Option<String>,
    /// Users (in JSON, a list, or a teacher's snapshot's columns).
    #[serde(deserialize_with = "compact::deserialize_users")]
    pub users: Vec<User>,
    /// Cohorts with their members.
    pub cohorts: Vec<Cohort>,
    /// Courses.
    pub courses: Vec<Course>,
    /// Course categories, where cohorts may live (optional: a site without them has only
    /// the system context).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Course groups.
    pub groups: Vec<Group>,
    /// Cohort bindings (Moodle's cohort sync enrolment instances).
    pub bindings: Vec<Binding>,
    /// The site's default options: where a check starts, and the bounds of what a teacher
    /// may choose ([`Options::exceeds_site`]).
    pub defaults: Options,
    /// What the bindings and the other enrolment methods hold in the bound courses: what a
    /// plan's effects are worked out from ([`crate::sync`]). The server reads it for the
    /// courses a plan touches, when it plans (reading it for the whole site would read every
    /// enrolment, role and group membership); a snapshot sent to a browser does not carry it,
    /// and the effects are then those of a site where cohort sync has run (every member of an
    /// active binding enrolled, with its role and group).
    pub enrolments: Option<EnrolmentState>,
}

/// The enrolments, roles and group memberships of the bound courses
/// ([`Snapshot::enrolments`]): in Moodle, `user_enrolments`, `role_assignments` and
/// `groups_members`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnrolmentState {
    /// What each binding holds (a binding without an entry holds nothing).
    pub bindings: Vec<BindingState>,
    /// What the other enrolment methods hold in the bound courses (a course without an
    /// entry has none).
    pub courses: Vec<CourseState>,
}

/// What one binding holds. User ids are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BindingState {
    /// Binding id.
    pub binding: i64,
    /// Users enrolled through it, active.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active: Vec<i64>,
    /// Users enrolled through it, suspended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspended: Vec<i64>,
    /// Of its enrolled users, those who do not hold the role it gives (a disabled binding's,
    /// say, or a suspended one's under *suspend and remove roles*).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_role: Vec<i64>,
    /// For a binding with a group: its enrolled users who are not in that group by it (a
    /// manual membership blocked it, say). On a synced site this is short, where the list of
    /// those who are would repeat every enrolment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ungrouped: Vec<i64>,
}

/// What the other enrolment methods (manual, self, a binding of another system) hold in
/// one bound course.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CourseState {
    /// Course id.
    pub course: i64,
    /// Users enrolled by another method, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enrolled_otherwise: Vec<i64>,
    /// Roles in the course no binding gave: `[user, role]`, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_roles: Vec<(i64, i64)>,
    /// Group memberships no binding made (by hand, say): `[group, user]`, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manual_groups: Vec<(i64, i64)>,
}

/// A user. In a teacher's snapshot the identifying fields are empty and `hashes` is set.
/// Empty fields are left out of the JSON (they read back empty): a teacher's snapshot
/// would otherwise repeat five empty fields for every user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// Moodle user id.
    pub id: i64,
    /// Login name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Institution id number.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub idnumber: String,
    /// Email address.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// First name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub firstname: String,
    /// Last name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lastname: String,
    /// Whether the account is suspended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// Keyed hashes of the identifiers (teacher variant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<UserHashes>,
}

/// Keyed hashes of a user's normalised identifiers; empty when the identifier is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserHashes {
    /// Hash of the lowercased username.
    pub username: String,
    /// Hash of the trimmed idnumber.
    pub idnumber: String,
    /// Hash of the lowercased email.
    pub email: String,
}

/// Who owns a cohort, from its `component`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Empty component: made by hand. Files may add or remove members explicitly; full mode
    /// and cleanup leave it alone.
    Manual,
    /// `cohortsync`: managed by files.
    Cohortsync,
    /// Any other component (`auth_ldap`…): read-only here.
    Other,
}

/// The component of cohorts managed by files.
pub const COHORTSYNC_COMPONENT: &str = "cohortsync";

/// A cohort. Read from JSON with its `members`, or with `member_deltas` (the compact form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "compact::CohortWire")]
pub struct Cohort {
    /// Moodle cohort id.
    pub id: i64,
    /// Id number, unique when set.
    pub idnumber: String,
    /// Name (not unique).
    pub name: String,
    /// Description.
    pub description: String,
    /// Whether the cohort is visible.
    pub visible: bool,
    /// The category (context) it lives in; empty for the system context.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub category: String,
    /// Owner component: empty (by hand), `cohortsync`, or another system's.
    pub component: String,
    /// Member user ids.
    pub members: Vec<i64>,
}

impl Default for Cohort {
    fn default() -> Self {
        Cohort {
            id: 0,
            idnumber: String::new(),
            name: String::new(),
            description: String::new(),
            visible: true,
            category: String::new(),
            component: String::new(),
            members: Vec::new(),
        }
    }
}

impl Cohort {
    /// Who owns this cohort.
    pub fn owner(&self) -> Owner {
        match self.component.as_str() {
            "" => Owner::Manual,
            COHORTSYNC_COMPONENT => Owner::Cohortsync,
            _ => Owner::Other,
        }
    }
}

/// A course.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Course {
    /// Moodle course id.
    pub id: i64,
    /// Short name, unique.
    pub shortname: String,
    /// Id number.
    pub idnumber: String,
    /// Full name.
    pub fullname: String,
}

/// A course category (Moodle's `course_categories`): a context cohorts may live in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Category {
    /// Moodle category id.
    pub id: i64,
    /// Name (not unique: two faculties may each have a "Licence").
    pub name: String,
    /// Id number (unique when set).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub idnumber: String,
    /// The parent category's id; 0 for a top-level category.
    pub parent: i64,
    /// The id of its context in Moodle (`mdl_context`, level 40), when the site has one:
    /// what a Moodle cohort upload file's `contextid` names. 0 in the embedded store.
    #[serde(skip_serializing_if = "is_zero")]
    pub context: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl Category {
    /// The key a cohort's `category` holds for this category: its idnumber, else its name.
    pub fn key(&self) -> &str {
        if self.idnumber.is_empty() {
            &self.name
        } else {
            &self.idnumber
        }
    }
}

/// Each category's path as Moodle's category lists show it, its ancestors' names and its
/// own joined by ` / ` ("Sciences / Mathématiques"), in the order of `categories`; `None`
/// for one whose parent is missing or whose parents loop.
///
/// ```
/// use cohortsync_shared::snapshot::{Category, category_paths};
///
/// let categories = [
///     Category { id: 2, name: "Sciences".into(), ..Category::default() },
///     Category { id: 3, name: "Mathématiques".into(), parent: 2, ..Category::default() },
///     Category { id: 4, name: "Lost".into(), parent: 99, ..Category::default() },
/// ];
/// let paths = category_paths(&categories);
/// assert_eq!(paths[1].as_deref(), Some("Sciences / Mathématiques"));
/// assert_eq!(paths[2], None);
/// ```
pub fn category_paths(categories: &[Category]) -> Vec<Option<String>> {
    let by_id: std::collections::HashMap<i64, &Category> =
        categories.iter().map(|c| (c.id, c)).collect();
    categories
        .iter()
        .map(|category| {
            let mut names = vec![category.name.as_str()];
            let mut parent = category.parent;
            while parent != 0 {
                // A path longer than the categories are many is a loop.
                if names.len() > categories.len() {
                    return None;
                }
                let up = by_id.get(&parent)?;
                names.push(up.name.as_str());
                parent = up.parent;
            }
            names.reverse();
            Some(names.join(" / "))
        })
        .collect()
}

/// A role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Role {
    /// Moodle role id.
    pub id: i64,
    /// Short name: `student`, `teacher`, `editingteacher`…
    pub shortname: String,
}

/// A group of a course.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Group {
    /// Moodle group id.
    pub id: i64,
    /// The course it belongs to.
    pub course: i64,
    /// Name.
    pub name: String,
    /// Id number.
    pub idnumber: String,
}

/// Whether a binding enrols its cohort's members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingStatus {
    /// Members are enrolled and can access the course.
    #[default]
    Active,
    /// The enrolment instance is disabled: members keep enrolments but lose access.
    Disabled,
}

impl BindingStatus {
    /// Every status.
    pub const ALL: [BindingStatus; 2] = [BindingStatus::Active, BindingStatus::Disabled];

    /// The status named exactly `text` (as [`BindingStatus::as_str`] writes it), if any.
    pub fn parse(text: &str) -> Option<BindingStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status as written on the wire, in files and in the store: `active`, `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingStatus::Active => "active",
            BindingStatus::Disabled => "disabled",
        }
    }

    /// The status a file's `status` cell names (case-insensitive; `enabled` is Moodle's
    /// word for active), or `None`.
    pub fn from_cell(value: &str) -> Option<BindingStatus> {
        match value.to_ascii_lowercase().as_str() {
            "active" | "enabled" => Some(BindingStatus::Active),
            "disabled" => Some(BindingStatus::Disabled),
            _ => None,
        }
    }
}

/// A cohort bound to a course (Moodle's cohort sync enrolment instance).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Binding {
    /// Instance id.
    pub id: i64,
    /// Course id.
    pub course: i64,
    /// Cohort id.
    pub cohort: i64,
    /// Role id given to members.
    pub role: i64,
    /// Group members are put in, if any.
    pub group: Option<i64>,
    /// Custom instance name.
    pub name: String,
    /// Active or disabled.
    pub status: BindingStatus,
    /// Enrolment start (Unix time), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolstart: Option<i64>,
    /// Enrolment end (Unix time), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolend: Option<i64>,
}

/// Normalises a user identifier the way lookups compare it: trimmed; usernames and emails
/// lowercased (Moodle stores usernames lowercased; email domains are case-insensitive and
/// people type them in any case).
pub fn normalise_user_key(kind: UserIdentifier, value: &str) -> Cow<'_, str> {
    let value = crate::decode::trim(value);
    match kind {
        // Most identifiers are already lower case: only those that are not are copied.
        UserIdentifier::Username | UserIdentifier::Email
            if value.chars().any(|c| c.is_uppercase()) =>
        {
            Cow::Owned(value.to_lowercase())
        }
        _ => Cow::Borrowed(value),
    }
}

/// Hex digits of the hashes in a teacher's snapshot: 48 bits (8 base64 characters in the
/// compact JSON form). They are the bulk of a teacher's snapshot, and random bytes do not
/// compress, so they are as short as a preview can afford. With n = 50,000 users:
///
/// - an identifier that is not on the site matches some user's hash by chance with
///   probability n / 2⁴⁸ ≈ 1.8 × 10⁻¹⁰: about one false match in 50,000 files of 100,000
///   unknown identifiers;
/// - two users share a hash of the same kind with probability n² / 2⁴⁹ ≈ 4.4 × 10⁻⁶; the
///   preview then calls that identifier ambiguous.
///
/// Either only misleads a preview: the server checks every file again with the real
/// identifiers.
pub const USER_HASH_HEX: usize = 12;

/// The keyed hash of a normalised identifier, as stored in a teacher's snapshot.
pub fn hash_user_key(key: &[u8], kind: UserIdentifier, normalised: &str) -> String {
    keyed_hash_hex(key, kind, normalised, USER_HASH_HEX)
}

/// HMAC-SHA-256 of the identifier's kind and value, its first `digits` hex digits (at most
/// 64).
fn keyed_hash_hex(key: &[u8], kind: UserIdentifier, normalised: &str, digits: usize) -> String {
    KeyedHasher::new(key).hash_hex(kind, normalised, digits)
}

/// [`keyed_hash_hex`] with one key, set up once. HMAC starts by hashing its key into two
/// blocks: for a short identifier, that is half of the four blocks of SHA-256 a hash takes,
/// which a check that hashes every row's user (a teacher's, in WebAssembly, where SHA-256
/// has no instruction of its own) need not do again each time.
#[derive(Clone)]
pub(crate) struct KeyedHasher {
    /// The HMAC with its key absorbed, before any message.
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a site's secret: never in a log.
        f.write_str("KeyedHasher")
    }
}

impl KeyedHasher {
    /// The hasher of `key` (any length is valid for HMAC).
    pub(crate) fn new(key: &[u8]) -> KeyedHasher {
        KeyedHasher {
            keyed: Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length"),
        }
    }

    /// The first `digits` hex digits (at most 64) of the hash of `normalised` as a `kind`.
    pub(crate) fn hash_hex(&self, kind: UserIdentifier, normalised: &str, digits: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut mac = self.keyed.clone();
        mac.update(kind.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(digits + 1);
        for b in &digest[..digits.div_ceil(2).min(digest.len())] {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        hex.truncate(digits);
        hex
    }
}

/// The bytes of a hash key written in hex (as in `user_hash_key`); `None` if it is not hex.
///
/// ```
/// use cohortsync_shared::snapshot::hash_key_from_hex;
/// assert_eq!(hash_key_from_hex("00ff10"), Some(vec![0, 255, 16]));
/// assert_eq!(hash_key_from_hex("0g"), None);
/// ```
pub fn hash_key_from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Snapshot {
    /// Parses the JSON form.
    pub fn from_json(json: &[u8]) -> Result<Snapshot, serde_json::Error> {
        serde_json::from_slice(json)
    }

    /// The teacher variant: users keep their id and suspension, and get keyed hashes of
    /// their identifiers instead of names, emails, usernames and idnumbers. `key` is the
    /// site's secret for this purpose (the server chooses it; it is not a password).
    pub fn for_teacher(&self, key: &[u8]) -> Snapshot {
        let hasher = KeyedHasher::new(key);
        let hash = |kind, value: &str| {
            if value.trim().is_empty() {
                String::new()
            } else {
                hasher.hash_hex(kind, &normalise_user_key(kind, value), USER_HASH_HEX)
            }
        };
        let users = self
            .users
            .iter()
            .map(|user| User {
                id: user.id,
                suspended: user.suspended,
                hashes: Some(UserHashes {
                    username: hash(UserIdentifier::Username, &user.username),
                    idnumber: hash(UserIdentifier::Idnumber, &user.idnumber),
                    email: hash(UserIdentifier::Email, &user.email),
                }),
                ..User::default()
            })
            .collect();
        Snapshot {
            user_hash_key: Some(key.iter().map(|b| format!("{b:02x}")).collect()),
            users,
            // A teacher's preview works from a synced site, as a browser's does.
            enrolments: None,
            ..self.clone()
        }
    }

    /// Whether this is a teacher's (hashed) snapshot.
    pub fn is_hashed(&self) -> bool {
        self.user_hash_key.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const EXAMPLE: &str = r#"{"revision": 7, "users": [{"id": 1, "username": "jdupont", "idnumber": "U0001", "email": "jean.dupont@univ.example", "firstname": "Jean", "lastname": "Dupont", "suspended": false}], "cohorts": [{"id": 1, "idnumber": "COH001", "name": "L2 Pharmacie", "description": "", "visible": true, "component": "", "members": [1]}], "courses": [{"id": 1, "shortname": "PHARMA-L2", "idnumber": "", "fullname": "Pharmacie L2"}], "roles": [{"id": 5, "shortname": "student"}], "groups": [{"id": 1, "course": 1, "name": "TD1", "idnumber": ""}], "bindings": [{"id": 1, "course": 1, "cohort": 1, "role": 5, "group": null, "name": "", "status": "active"}]}"#;

    #[test]
    fn the_documented_json_shape_parses() {
        let snapshot = Snapshot::from_json(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(snapshot.revision, 7);
        assert_eq!(snapshot.users[0].email, "jean.dupont@univ.example");
        assert_eq!(snapshot.cohorts[0].members, [1]);
        assert_eq!(snapshot.cohorts[0].owner(), Owner::Manual);
        assert_eq!(snapshot.bindings[0].status, BindingStatus::Active);
        assert_eq!(snapshot.groups[0].name, "TD1");
    }

    /// The hashes are HMAC-SHA-256 of `kind`, NUL and the identifier (here computed apart,
    /// with Python's `hmac`): a teacher's snapshot cached by the browser, or hashed by an
    /// older server, must keep matching the hashes of the files' identifiers.
    #[test]
    fn a_users_hash_is_the_hmac_of_its_kind_and_identifier() {
        let key = b"site secret";
        let idnumber = "1b5ef12f46f7ef774f917189b94c41fd5c209cf8adb688e5fdadc6c5ecff2772";
        let email = "3b2e7bc7f27fcf6cdcb7f712aa81207be32dfca23d8aff123637d3d6c3a7a12f";
        let hasher = KeyedHasher::new(key);
        for digits in [12, 16, 32, 64] {
            assert_eq!(
                hasher.hash_hex(UserIdentifier::Idnumber, "U0001", digits),
                idnumber[..digits]
            );
        }
        assert_eq!(
            hash_user_key(key, UserIdentifier::Email, "jean.dupont@univ.example"),
            email[..USER_HASH_HEX]
        );
        let teacher = Snapshot::from_json(EXAMPLE.as_bytes())
            .unwrap()
            .for_teacher(key);
        let hashes = teacher.users[0].hashes.as_ref().unwrap();
        assert_eq!(hashes.idnumber, idnumber[..USER_HASH_HEX]);
        assert_eq!(hashes.email, email[..USER_HASH_HEX]);
    }

    #[test]
    fn missing_optional_fields_default_and_extra_fields_are_ignored() {
        let snapshot = Snapshot::from_json(
            br#"{"revision": 1, "cohorts": [{"id": 3, "name": "X", "extra": 1}], "future": []}"#,
        )
        .unwrap();
        assert!(snapshot.cohorts[0].visible);
        assert!(snapshot.users.is_empty());
    }

    #[test]
    fn teacher_snapshot_has_no_names_or_emails_but_finds_users() {
        let snapshot = Snapshot::from_json(EXAMPLE.as_bytes()).unwrap();
        let teacher = snapshot.for_teacher(b"site secret");
        let json = serde_json::to_string(&teacher).unwrap();
        for secret in ["jdupont", "U0001", "jean.dupont", "Jean", "Dupont"] {
            assert!(!json.contains(secret), "{secret} leaks: {json}");
        }
        let by_email = UserLookup::new(&teacher, UserIdentifier::Email);
        assert_eq!(by_email.find(" Jean.Dupont@UNIV.example "), [0]);
        assert!(by_email.find("someone@else").is_empty());
        let by_idnumber = UserLookup::new(&teacher, UserIdentifier::Idnumber);
        assert_eq!(by_idnumber.find("U0001"), [0]);
        assert!(by_idnumber.find("u0001").is_empty());
        let hashes = teacher.users[0].hashes.as_ref().unwrap();
        assert_eq!(hashes.idnumber.len(), USER_HASH_HEX);
    }

    #[test]
    fn a_teacher_snapshot_cached_with_longer_hashes_still_finds_users() {
        // Snapshots made before hashes were shortened carry 128-bit (32 hex digit) hashes.
        let snapshot = Snapshot::from_json(EXAMPLE.as_bytes()).unwrap();
        let mut teacher = snapshot.for_teacher(b"site secret");
        let long = |kind, value| {
            keyed_hash_hex(b"site secret", kind, &normalise_user_key(kind, value), 32)
        };
        teacher.users[0].hashes = Some(UserHashes {
            username: long(UserIdentifier::Username, "jdupont"),
            idnumber: long(UserIdentifier::Idnumber, "U0001"),
            email: long(UserIdentifier::Email, "jean.dupont@univ.example"),
        });
        let by_idnumber = UserLookup::new(&teacher, UserIdentifier::Idnumber);
        assert_eq!(by_idnumber.find("U0001"), [0]);
        assert!(by_idnumber.find("U0002").is_empty());
        let by_email = UserLookup::new(&teacher, UserIdentifier::Email);
        assert_eq!(by_email.find("JEAN.dupont@univ.example"), [0]);
        // The short hash is the long one's beginning.
        assert!(
            long(UserIdentifier::Idnumber, "U0001").starts_with(&hash_user_key(
                b"site secret",
                UserIdentifier::Idnumber,
                "U0001"
            ))
        );
    }

    /// A site with what the compact form must keep: ids with gaps, a suspended user, users
    /// without an idnumber or an email, and cohorts with members in any order.
    fn varied() -> Snapshot {
        let user = |id, username: &str, idnumber: &str, email: &str, suspended| User {
            id,
            username: username.into(),
            idnumber: idnumber.into(),
            email: email.into(),
            firstname: "Jean".into(),
            lastname: "Dupont".into(),
            suspended,
            hashes: None,
        };
        Snapshot {
            revision: 9,
            users: vec![
                user(3, "jdupont", "U0001", "jean.dupont@univ.example", false),
                user(4, "amartin", "", "anne.martin@univ.example", true),
                user(250, "bleroy", "U0250", "", false),
            ],
            cohorts: vec![
                Cohort {
                    id: 1,
                    idnumber: "COH001".into(),
                    category: "FAC-ECO".into(),
                    members: vec![3, 4, 250],
                    ..Cohort::default()
                },
                Cohort {
                    id: 2,
                    idnumber: "COH002".into(),
                    visible: false,
                    members: vec![250, 3],
                    ..Cohort::default()
                },
                Cohort {
                    id: 3,
                    ..Cohort::default()
                },
            ],
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_teachers_snapshot_is_written_compact_and_reads_back_the_same() {
        let teacher = varied().for_teacher(b"site secret");
        let json = serde_json::to_string(&teacher).unwrap();
        assert!(!json.contains("\"hashes\""), "{json}");
        assert!(json.contains(r#""member_deltas":[3,1,246]"#), "{json}");
        assert!(json.contains(r#""member_deltas":[250,-247]"#), "{json}");
        assert!(json.contains(r#""ids":[3,1,246]"#), "{json}");
        assert!(json.contains(r#""suspended":[1]"#), "{json}");
        for secret in ["jdupont", "U0001", "jean.dupont", "Jean", "Dupont"] {
            assert!(!json.contains(secret), "{secret} leaks: {json}");
        }
        let read = Snapshot::from_json(json.as_bytes()).unwrap();
        assert_eq!(read, teacher);
        let by_idnumber = UserLookup::new(&read, UserIdentifier::Idnumber);
        assert_eq!(by_idnumber.find("U0250"), [2]);
        assert!(by_idnumber.find("").is_empty());
        let by_email = UserLookup::new(&read, UserIdentifier::Email);
        assert_eq!(by_email.find("Anne.Martin@univ.example"), [1]);
    }

    #[test]
    fn keys_longer_than_a_slot_holds_are_told_apart_by_their_tail() {
        let user = |id, email: &str| User {
            id,
            email: email.into(),
            ..User::default()
        };
        let snapshot = Snapshot {
            users: vec![
                user(1, "jean.dupont@univ.example"),
                user(2, "jean.dupont@univ.exampla"),
                user(3, "jean.dupont@univ.example"),
                user(4, "short@u.fr"),
            ],
            ..Snapshot::default()
        };
        let by_email = UserLookup::new(&snapshot, UserIdentifier::Email);
        assert_eq!(by_email.find("jean.dupont@univ.example"), [0, 2]);
        assert_eq!(by_email.find("jean.dupont@univ.exampla"), [1]);
        assert!(by_email.find("jean.dupont@univ.exampl").is_empty());
        assert!(by_email.find("jean.dupont@").is_empty());
        assert_eq!(by_email.find("Short@U.fr"), [3]);
    }

    #[test]
    fn an_admins_snapshot_is_written_plain() {
        let admin = varied();
        let json = serde_json::to_string(&admin).unwrap();
        assert!(json.contains(r#""members":[3,4,250]"#), "{json}");
        assert!(json.contains(r#""username":"jdupont""#), "{json}");
        assert!(!json.contains("member_deltas"), "{json}");
        assert_eq!(Snapshot::from_json(json.as_bytes()).unwrap(), admin);
    }

    #[test]
    fn a_teacher_snapshot_cached_in_the_plain_form_with_64_bit_hashes_still_reads() {
        // What the server sent before the compact form: a list of users with 16-hex hashes.
        let hash = |kind, value| {
            keyed_hash_hex(b"site secret", kind, &normalise_user_key(kind, value), 16)
        };
        let json = serde_json::json!({
            "revision": 4,
            "user_hash_key": "7369746520736563726574",
            "users": [{"id": 1, "hashes": {
                "username": hash(UserIdentifier::Username, "jdupont"),
                "idnumber": hash(UserIdentifier::Idnumber, "U0001"),
                "email": ""}}],
            "cohorts": [{"id": 1, "idnumber": "COH001", "members": [1]}],
        });
        let read = Snapshot::from_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(read.cohorts[0].members, [1]);
        assert_eq!(
            UserLookup::new(&read, UserIdentifier::Username).find("JDupont"),
            [0]
        );
        assert_eq!(
            UserLookup::new(&read, UserIdentifier::Idnumber).find("U0001"),
            [0]
        );
        // Written again, it is compact and reads back the same.
        let again = serde_json::to_string(&read).unwrap();
        assert!(again.contains(r#""hash_bits":64"#), "{again}");
        assert_eq!(Snapshot::from_json(again.as_bytes()).unwrap(), read);
    }

    #[test]
    fn broken_user_columns_are_an_error_that_says_what_is_wrong() {
        let columns = |body: &str| {
            Snapshot::from_json(format!(r#"{{"users": {body}}}"#).as_bytes())
                .unwrap_err()
                .to_string()
        };
        let too_short = columns(
            r#"{"ids": [1, 1], "hash_bits": 48, "username": "AAAAAAAA", "idnumber": "", "email": ""}"#,
        );
        assert!(
            too_short.contains("username holds 8 characters, 2 users of 8"),
            "{too_short}"
        );
        let not_base64 = columns(
            r#"{"ids": [1], "hash_bits": 48, "username": "AAAA*AAA", "idnumber": "........", "email": "........"}"#,
        );
        assert!(not_base64.contains("user 0's hash"), "{not_base64}");
        let bits = columns(r#"{"ids": [], "hash_bits": 7}"#);
        assert!(bits.contains("hash_bits 7"), "{bits}");
        let suspended = columns(
            r#"{"ids": [1], "suspended": [1], "hash_bits": 48, "username": "........", "idnumber": "........", "email": "........"}"#,
        );
        assert!(suspended.contains("suspended user 1 of 1"), "{suspended}");
    }
}
