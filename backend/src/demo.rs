//! `cohortsync demo` and `serve --demo`: a realistic generated university to try the app
//! on, two demo accounts, and example files (good ones and ones with typical mistakes)
//! written next to the database.
//!
//! Generated deterministically (a fixed-seed generator), so every demo site is the same.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::auth::Role;
use crate::config::DatabaseArgs;
use crate::crypto;
use crate::store::StoreResult;
use crate::store::bulk::{self, Value};
use crate::store::{Database, accounts};

/// The demo accounts: (name, password, role).
pub const DEMO_ACCOUNTS: [(&str, &str, Role); 2] = [
    ("admin", "admin-demo", Role::Admin),
    ("prof", "prof-demo", Role::Teacher),
];

/// Flags of `cohortsync demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Where the database is.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs `cohortsync demo`: loads the demo site (once) and prints how to use it.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let db = Database::connect(&args.database.url()?).await?;
    let examples = args.database.data_dir.join("examples");
    let summary = load(&db, &examples).await?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// A small deterministic generator (64-bit LCG): the demo must be the same everywhere.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FIRST_NAMES: [&str; 40] = [
    "Jean",
    "Marie",
    "Camille",
    "Léa",
    "Hugo",
    "Lucas",
    "Chloé",
    "Manon",
    "Louis",
    "Emma",
    "Inès",
    "Gabriel",
    "Jade",
    "Raphaël",
    "Zoé",
    "Arthur",
    "Élodie",
    "Théo",
    "Anaïs",
    "Noé",
    "Mohamed",
    "Fatima",
    "Yasmine",
    "Karim",
    "Amadou",
    "Aïssatou",
    "Nguyen",
    "Mei",
    "Sofia",
    "Giulia",
    "Lukas",
    "Anna",
    "Olga",
    "Piotr",
    "João",
    "Ana",
    "Kofi",
    "Priya",
    "Hiroshi",
    "Siobhán",
];

const LAST_NAMES: [&str; 40] = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Benali",
    "Diallo",
    "Traoré",
    "Tran",
    "Rossi",
    "Müller",
    "Kowalski",
    "Silva",
    "Mensah",
    "Sharma",
    "O'Brien",
];

const PROGRAMS: [(&str, &str); 10] = [
    ("PHARMA", "Pharmacie"),
    ("CHIMIE", "Chimie"),
    ("DROIT", "Droit"),
    ("INFO", "Informatique"),
    ("HIST", "Histoire"),
    ("GEST", "Gestion"),
    ("BIO", "Biologie"),
    ("LEA", "Langues étrangères appliquées"),
    ("MATH", "Mathématiques"),
    ("PSY", "Psychologie"),
];

const LEVELS: [&str; 4] = ["L1", "L2", "L3", "M1"];

/// Users in the demo.
const USERS: usize = 4000;

fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'É' => 'e',
            'ë' => 'e',
            'à' | 'â' => 'a',
            'ï' | 'î' => 'i',
            'ô' | 'ö' => 'o',
            'ü' | 'û' => 'u',
            'ç' => 'c',
            'ã' => 'a',
            'á' => 'a',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// Loads the demo site unless the database already has users; writes the example files
/// into `examples`. Returns what to tell the person who asked.
pub async fn load(db: &Database, examples: &Path) -> anyhow::Result<String> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db.pool())
        .await?;
    let fresh = users == 0;
    if fresh {
        generate(db).await?;
    }
    for (name, password, role) in DEMO_ACCOUNTS {
        if accounts::find_account(db.pool(), name).await?.is_none() {
            let hash = crypto::hash_password(password)?;
            accounts::upsert_account(db.pool(), name, &hash, role).await?;
        }
    }
    let written = write_examples(examples)?;
    let mut text = String::new();
    text.push_str(if fresh {
        "demo data loaded: a university of 4000 users, 40 courses, 44 cohorts\n"
    } else {
        "demo data: the database already has users; nothing was generated\n"
    });
    text.push_str("demo logins:\n");
    for (name, password, role) in DEMO_ACCOUNTS {
        text.push_str(&format!("  {name} / {password}   ({})\n", role.as_str()));
    }
    text.push_str(&format!(
        "example files to drop into the app: {}\n",
        examples.display()
    ));
    for file in written {
        text.push_str(&format!("  {}\n", file.display()));
    }
    Ok(text)
}

async fn generate(db: &Database) -> anyhow::Result<()> {
    let mut rng = Lcg(2026);
    let mut tx = db.begin_write().await?;

    // Users: a few suspended; a few families sharing one email (emails are not unique).
    let mut rows = Vec::with_capacity(USERS);
    let mut shared_email = String::new();
    for i in 1..=USERS {
        let first = FIRST_NAMES[rng.below(FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.below(LAST_NAMES.len())];
        let initial: String = first.chars().take(1).collect();
        let username = format!("{}{}{i}", ascii(&initial), ascii(last));
        let mut email = format!("{}.{}{i}@etu.univ-demo.fr", ascii(first), ascii(last));
        if i % 500 == 1 {
            // famille.martin@, famille.bernard@…: the example file names the first.
            shared_email = format!(
                "famille.{}@example.org",
                ascii(LAST_NAMES[(i / 500) % LAST_NAMES.len()])
            );
        }
        if i % 500 <= 2 {
            email = shared_email.clone();
        }
        let suspended = i64::from(rng.below(50) == 0);
        rows.push(vec![
            Value::Int(i as i64),
            username.into(),
            format!("E{:07}", 2026_0000 + i).into(),
            email.into(),
            first.into(),
            last.into(),
            Value::Int(suspended),
        ]);
    }
    bulk::insert(
        &mut tx,
        "users",
        &[
            "id",
            "username",
            "idnumber",
            "email",
            "firstname",
            "lastname",
            "suspended",
        ],
        &rows,
        "",
    )
    .await?;

    // Courses (one per programme and level), two groups each.
    let mut courses = Vec::new();
    let mut groups = Vec::new();
    let mut id = 0i64;
    for (code, name) in PROGRAMS {
        for level in LEVELS {
            id += 1;
            courses.push(vec![
                Value::Int(id),
                format!("{code}-{level}").into(),
                format!("{name} {level}").into(),
                format!("C-{code}-{level}").into(),
                name.into(),
            ]);
            for (g, group) in ["TD1", "TD2"].iter().enumerate() {
                groups.push(vec![
                    Value::Int(id * 10 + g as i64),
                    Value::Int(id),
                    (*group).into(),
                    "".into(),
                ]);
            }
        }
    }
    bulk::insert(
        &mut tx,
        "courses",
        &["id", "shortname", "fullname", "idnumber", "category"],
        &courses,
        "",
    )
    .await?;
    // One course category per programme, where cohorts may live.
    let categories: Vec<Vec<Value>> = PROGRAMS
        .iter()
        .enumerate()
        .map(|(i, (code, name))| {
            vec![
                Value::Int(i as i64 + 1),
                (*name).into(),
                format!("FAC-{code}").into(),
                Value::Int(0),
            ]
        })
        .collect();
    bulk::insert(
        &mut tx,
        "categories",
        &["id", "name", "idnumber", "parent"],
        &categories,
        "",
    )
    .await?;
    bulk::insert(
        &mut tx,
        "course_groups",
        &["id", "course_id", "name", "idnumber"],
        &groups,
        "",
    )
    .await?;

    // Cohorts managed by files, one per course, bound to it with the student role; every
    // student is in one of them. Plus hand-made and directory-owned cohorts.
    let mut cohorts = Vec::new();
    let mut members = Vec::new();
    let mut bindings = Vec::new();
    let mut enrolments = Vec::new();
    let mut group_members = Vec::new();
    for course in 1..=id {
        let (code, name) = PROGRAMS[(course as usize - 1) / LEVELS.len()];
        let level = LEVELS[(course as usize - 1) % LEVELS.len()];
        cohorts.push(vec![
            Value::Int(course),
            format!("COH-{code}-{level}").into(),
            format!("{level} {name} 2026").into(),
            format!("Étudiants inscrits en {level} {name}").into(),
            "cohortsync".into(),
        ]);
        // Most bindings put students in TD1; a few have no group.
        let group = (course % 5 != 0).then_some(course * 10);
        bindings.push(vec![
            Value::Int(course),
            Value::Int(course),
            Value::Int(course),
            Value::Int(5),
            Value::OptInt(group),
        ]);
        for user in (course..=USERS as i64).step_by(id as usize) {
            members.push(vec![Value::Int(course), Value::Int(user)]);
            enrolments.push(vec![Value::Int(course), Value::Int(user)]);
            if let Some(group) = group {
                group_members.push(vec![Value::Int(group), Value::Int(user)]);
            }
        }
    }
    let extra = [
        (
            "DELEGUES-2026",
            "Délégués 2026",
            "Élus étudiants (cohorte faite à la main)",
            "",
            12,
        ),
        (
            "STAFF-LDAP",
            "Personnel enseignant",
            "Synchronisée depuis l'annuaire",
            "auth_ldap",
            60,
        ),
        (
            "BIATSS-LDAP",
            "Personnel administratif",
            "Synchronisée depuis l'annuaire",
            "auth_ldap",
            40,
        ),
        (
            "SIS-DU-FOAD",
            "DU Gestion FOAD",
            "Alimentée par la base de scolarité",
            "tool_cohortdatabase",
            30,
        ),
    ];
    for (k, (idnumber, name, description, component, size)) in extra.into_iter().enumerate() {
        let cohort = id + 1 + k as i64;
        cohorts.push(vec![
            Value::Int(cohort),
            idnumber.into(),
            name.into(),
            description.into(),
            component.into(),
        ]);
        for _ in 0..size {
            members.push(vec![
                Value::Int(cohort),
                Value::Int(1 + rng.below(USERS) as i64),
            ]);
        }
    }
    let mut seen = std::collections::HashSet::new();
    members.retain(|row| seen.insert(format!("{row:?}")));
    bulk::insert(
        &mut tx,
        "cohorts",
        &["id", "idnumber", "name", "description", "component"],
        &cohorts,
        "",
    )
    .await?;
    bulk::insert(
        &mut tx,
        "cohort_members",
        &["cohort_id", "user_id"],
        &members,
        "",
    )
    .await?;
    bulk::insert(
        &mut tx,
        "bindings",
        &["id", "course_id", "cohort_id", "role_id", "group_id"],
        &bindings,
        "",
    )
    .await?;
    for row in &mut enrolments {
        row.push("active".into());
    }
    bulk::insert(
        &mut tx,
        "enrolments",
        &["binding_id", "user_id", "status"],
        &enrolments,
        "",
    )
    .await?;
    bulk::insert(
        &mut tx,
        "group_members",
        &["group_id", "user_id"],
        &group_members,
        "",
    )
    .await?;
    sync_sequences(&mut tx, db.kind()).await?;
    sqlx::query("UPDATE site_state SET revision = revision + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Explicit ids were inserted: PostgreSQL's identity sequences must move past them.
async fn sync_sequences(
    conn: &mut sqlx::AnyConnection,
    kind: cohortsync_shared::api::DatabaseKind,
) -> StoreResult<()> {
    if kind != cohortsync_shared::api::DatabaseKind::Postgres {
        return Ok(());
    }
    for table in [
        "users",
        "courses",
        "course_groups",
        "cohorts",
        "bindings",
        "categories",
    ] {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Example files: what a newcomer drops into the app, good and with typical mistakes.
const EXAMPLES: [(&str, &str); 9] = [
    (
        "01-add-students.csv",
        "cmd;cname;userid;cidnumber\n\
         add;L2 Pharmacie 2026;E20260003;COH-PHARMA-L2\n\
         add;L2 Pharmacie 2026;E20260005;COH-PHARMA-L2\n\
         add;L2 Pharmacie 2026;E20260007;COH-PHARMA-L2\n",
    ),
    (
        "02-new-cohort-and-binding.csv",
        "cmd;cname;userid;cidnumber;cdescription\n\
         add;Tutorat Chimie 2026;E20260005;COH-TUTORAT-CHIMIE;Tuteurs de chimie\n\
         add;Tutorat Chimie 2026;E20260015;COH-TUTORAT-CHIMIE;\n\
         add;Tutorat Chimie 2026;E20260025;COH-TUTORAT-CHIMIE;\n",
    ),
    (
        "03-bind-courses.csv",
        "cmd;cohort;course;role;makegroup\n\
         add;COH-PHARMA-L2;CHIMIE-L2;student;1\n\
         del;COH-DROIT-L1;DROIT-L1;student;\n",
    ),
    (
        "04-mistakes.csv",
        "cmd;cname;userid;cidnumber\n\
         # typical mistakes, one per line\n\
         add;L2 Pharmacie 2026;E99999999;COH-PHARMA-L2\n\
         add;L2 Pharmacie 2026;E20260002;COH-PHARMA-L2\n\
         add;L2 Pharmacie 2026;E20260002;COH-PHARMA-L2\n\
         del;L2 Pharmacie 2026;E20260002;COH-PHARMA-L2\n\
         remove;L2 Pharmacie 2026;E20260003;COH-PHARMA-L2\n\
         add;Personnel enseignant;E20260004;STAFF-LDAP\n\
         add;L2 Pharmacie 2026;E20260005\n",
    ),
    (
        "05-cohort-names-in-the-idnumber-column.csv",
        "cmd;cname;userid;cidnumber\n\
         del;L3 Chimie 2026;E20260007;L3 Chimie 2026\n",
    ),
    (
        "06-emails-shared-by-a-family.csv",
        "cmd;cname;userid;cidnumber\n\
         add;M1 Droit 2026;famille.martin@example.org;COH-DROIT-M1\n",
    ),
    (
        "07-nightly-export-full-mode.csv",
        "cmd;cname;userid;cidnumber\n\
         add;L1 Informatique 2026;E20260004;COH-INFO-L1\n\
         add;L1 Informatique 2026;E20260044;COH-INFO-L1\n",
    ),
    (
        "09-moodle-cohort-upload.csv",
        "name,idnumber,description,category,visible\n\
         M1 Pharmacie 2027,COH-PHARMA-M1-2027,Promotion 2027,Pharmacie,\n\
         M1 Chimie 2027,COH-CHIMIE-M1-2027,,FAC-CHIMIE,no\n",
    ),
    (
        "10-moodle-user-upload.csv",
        "idnumber,firstname,lastname,cohort1,cohort2\n\
         E20260011,Jeanne,Exemple,COH-PHARMA-L2,COH-INFO-L1\n\
         E20260012,Paul,Exemple,COH-PHARMA-L2,\n",
    ),
];

fn write_examples(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, text) in EXAMPLES {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    // A French Excel export: Windows-1252, CRLF line ends.
    let path = dir.join("08-excel-windows-1252.csv");
    let text = "cmd;cname;userid;cidnumber;cdescription\r\nadd;Délégués 2026;E20260006;DELEGUES-2026;Élus étudiants\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    let readme = dir.join("README.txt");
    std::fs::write(
        &readme,
        "Example files for the cohortsync demo. Drop them into the app's check page.\n\
         All use the default options (users by idnumber, cohorts by idnumber) unless said.\n\
         01-03 are clean; 04 has one typical mistake per line; 05 puts cohort names in the\n\
         idnumber column (the report suggests the cohort identifier option that fits);\n\
         06 names a user by an email (switch the user identifier to email: two people\n\
         share it, and the report says so); 07 is a nightly export: check it in full mode\n\
         and the safety limit stops it from removing everyone else from the cohort;\n\
         08 is a Windows-1252 file as French Excel writes them; 09 is Moodle's own cohort\n\
         upload file (cohorts created in the programmes' categories); 10 is Moodle's user\n\
         upload file, read for its cohort columns (cohortsync adds members, not users).\n",
    )?;
    written.push(readme);
    Ok(written)
}
