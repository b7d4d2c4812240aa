//! Moodle's seven cohort-sync tables read back by natural keys (user = username, cohort =
//! idnumber, course = shortname, role = shortname, context = `system`,
//! `category:<idnumber>`, `course:<shortname>`, `user:<username>`; an enrolment instance =
//! `<course>/<enrol>` or `<course>/cohort/<cohort>/<role>`), in the shape of the oracle
//! cases' `after.json`, without ids and timestamps: what two databases holding the same
//! site agree on.

use std::collections::{BTreeMap, HashMap};

use sqlx::{AnyConnection, Row};

/// Text column `i` (MariaDB hands text over as bytes through the `Any` driver).
pub fn text(row: &sqlx::any::AnyRow, i: usize) -> anyhow::Result<String> {
    Ok(opt_text(row, i)?.unwrap_or_default())
}

/// Nullable text column `i`.
pub fn opt_text(row: &sqlx::any::AnyRow, i: usize) -> anyhow::Result<Option<String>> {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return Ok(v);
    }
    let bytes: Option<Vec<u8>> = row.try_get(i)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// A row as read: column → value as text.
pub type Raw = HashMap<String, Option<String>>;

/// A row as compared: field → value as text, empty and NULL alike.
pub type Natural = BTreeMap<String, Option<String>>;

/// Every column of `table`, each as text (`columns` in order).
pub async fn read_table(
    conn: &mut AnyConnection,
    mysql: bool,
    table: &str,
    columns: &[&str],
) -> anyhow::Result<Vec<Raw>> {
    let cast = if mysql { "CHAR" } else { "TEXT" };
    let list: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST({c} AS {cast})"))
        .collect();
    let sql = format!("SELECT {} FROM mdl_{table}", list.join(", "));
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let mut map = HashMap::new();
            for (i, c) in columns.iter().enumerate() {
                map.insert((*c).to_owned(), opt_text(r, i)?);
            }
            Ok(map)
        })
        .collect()
}

/// A compared row from its fields; empty values read as NULL.
pub fn natural(fields: &[(&str, Option<String>)]) -> Natural {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone().filter(|v| !v.is_empty())))
        .collect()
}

/// Ids → natural names of the site's users, courses, roles and contexts.
struct Names {
    users: HashMap<String, String>,
    courses: HashMap<String, String>,
    roles: HashMap<String, String>,
    contexts: HashMap<String, String>,
}

fn by_id(rows: &[Raw], value: &dyn Fn(&Raw) -> String) -> HashMap<String, String> {
    rows.iter()
        .map(|r| (r["id"].clone().unwrap_or_default(), value(r)))
        .collect()
}

fn get(r: &Raw, k: &str) -> String {
    r.get(k).cloned().flatten().unwrap_or_default()
}

async fn names(conn: &mut AnyConnection, mysql: bool) -> anyhow::Result<Names> {
    let users = read_table(conn, mysql, "user", &["id", "username"]).await?;
    let users = by_id(&users, &|r| get(r, "username"));
    let courses = read_table(conn, mysql, "course", &["id", "shortname"]).await?;
    let courses = by_id(&courses, &|r| get(r, "shortname"));
    let categories = read_table(conn, mysql, "course_categories", &["id", "idnumber"]).await?;
    let categories = by_id(&categories, &|r| get(r, "idnumber"));
    let roles = read_table(conn, mysql, "role", &["id", "shortname"]).await?;
    let roles = by_id(&roles, &|r| get(r, "shortname"));
    let contexts = read_table(
        conn,
        mysql,
        "context",
        &["id", "contextlevel", "instanceid"],
    )
    .await?;
    let contexts = by_id(&contexts, &|r| {
        let instance = get(r, "instanceid");
        match get(r, "contextlevel").as_str() {
            "10" => "system".to_owned(),
            "40" => format!(
                "category:{}",
                categories.get(&instance).cloned().unwrap_or_default()
            ),
            "50" => format!(
                "course:{}",
                courses.get(&instance).cloned().unwrap_or_default()
            ),
            "30" => format!("user:{}", users.get(&instance).cloned().unwrap_or_default()),
            level => format!("{level}:{instance}"),
        }
    });
    Ok(Names {
        users,
        courses,
        roles,
        contexts,
    })
}

/// The `mdl_logstore_standard_log` rows written at or after `since`, as (event, crud,
/// object table, context, related user, `other` without the ids in it), sorted.
pub async fn log_since(
    conn: &mut AnyConnection,
    mysql: bool,
    since: i64,
) -> anyhow::Result<Vec<Natural>> {
    let names = names(conn, mysql).await?;
    let rows = read_table(
        conn,
        mysql,
        "logstore_standard_log",
        &[
            "eventname",
            "crud",
            "objecttable",
            "contextid",
            "relateduserid",
            "other",
            "timecreated",
            "userid",
            "origin",
        ],
    )
    .await?;
    let mut out: Vec<Natural> = rows
        .iter()
        .filter(|r| {
            get(r, "timecreated")
                .parse::<i64>()
                .is_ok_and(|t| t >= since)
        })
        .map(|r| {
            log_row(
                &get(r, "eventname"),
                &get(r, "crud"),
                &get(r, "objecttable"),
                names.contexts.get(&get(r, "contextid")).cloned(),
                names.users.get(&get(r, "relateduserid")).cloned(),
                &get(r, "other"),
                names.users.get(&get(r, "userid")).cloned(),
                &get(r, "origin"),
            )
        })
        .collect();
    out.sort();
    Ok(out)
}

/// One log row as compared: ids (of role assignments, enrolments, instances) and times left
/// out of `other`.
#[allow(clippy::too_many_arguments)]
pub fn log_row(
    event: &str,
    crud: &str,
    table: &str,
    context: Option<String>,
    related: Option<String>,
    other: &str,
    user: Option<String>,
    origin: &str,
) -> Natural {
    let mut other: serde_json::Value = serde_json::from_str(other).unwrap_or_default();
    if let Some(map) = other.as_object_mut() {
        map.remove("id");
        map.remove("itemid");
        if let Some(ue) = map.get_mut("userenrolment").and_then(|v| v.as_object_mut()) {
            ue.retain(|k, _| {
                ["status", "timestart", "timeend", "enrol", "lastenrol"].contains(&k.as_str())
            });
        }
    }
    natural(&[
        ("event", Some(event.to_owned())),
        ("crud", Some(crud.to_owned())),
        ("objecttable", Some(table.to_owned())),
        ("context", context),
        ("relateduser", related),
        ("other", Some(other.to_string())),
        ("user", user),
        ("origin", Some(origin.to_owned())),
    ])
}

/// The seven tables of `conn`, by natural keys, in the shape of a case's `after.json`.
pub async fn tables_now(
    conn: &mut AnyConnection,
    mysql: bool,
) -> anyhow::Result<BTreeMap<String, Vec<Natural>>> {
    let Names {
        users,
        courses,
        roles,
        contexts,
    } = names(conn, mysql).await?;
    let cohorts = read_table(
        conn,
        mysql,
        "cohort",
        &[
            "id",
            "idnumber",
            "name",
            "contextid",
            "component",
            "visible",
            "description",
            "descriptionformat",
            "theme",
        ],
    )
    .await?;
    let cohort_idnumber = by_id(&cohorts, &|r| get(r, "idnumber"));
    let groups = read_table(
        conn,
        mysql,
        "groups",
        &[
            "id",
            "courseid",
            "name",
            "idnumber",
            "description",
            "descriptionformat",
            "enrolmentkey",
            "picture",
            "visibility",
            "participation",
        ],
    )
    .await?;
    let group_name = by_id(&groups, &|r| get(r, "name"));
    let enrols = read_table(
        conn,
        mysql,
        "enrol",
        &[
            "id",
            "courseid",
            "enrol",
            "status",
            "sortorder",
            "name",
            "roleid",
            "customint1",
            "customint2",
            "enrolperiod",
            "enrolstartdate",
            "enrolenddate",
        ],
    )
    .await?;
    let key = by_id(&enrols, &|r| {
        let course = courses
            .get(&get(r, "courseid"))
            .cloned()
            .unwrap_or_default();
        if get(r, "enrol") == "cohort" {
            format!(
                "{course}/cohort/{}/{}",
                // A deleted cohort's instance (kept under the suspend actions) is named
                // as the oracle names it.
                cohort_idnumber
                    .get(&get(r, "customint1"))
                    .cloned()
                    .unwrap_or_else(|| format!("#{}(missing)", get(r, "customint1"))),
                roles.get(&get(r, "roleid")).cloned().unwrap_or_default()
            )
        } else {
            format!("{course}/{}", get(r, "enrol"))
        }
    });
    let item = |id: String| (id != "0").then(|| key.get(&id).cloned().unwrap_or(id));
    let mut out: BTreeMap<String, Vec<Natural>> = BTreeMap::new();
    out.insert(
        "cohort".to_owned(),
        cohorts
            .iter()
            .map(|r| {
                natural(&[
                    ("idnumber", r["idnumber"].clone()),
                    ("name", r["name"].clone()),
                    ("context", contexts.get(&get(r, "contextid")).cloned()),
                    ("component", r["component"].clone()),
                    ("visible", r["visible"].clone()),
                    ("description", r["description"].clone()),
                    ("descriptionformat", r["descriptionformat"].clone()),
                    ("theme", r["theme"].clone()),
                ])
            })
            .collect(),
    );
    let members = read_table(conn, mysql, "cohort_members", &["cohortid", "userid"]).await?;
    out.insert(
        "cohort_members".to_owned(),
        members
            .iter()
            .map(|r| {
                natural(&[
                    ("cohort", cohort_idnumber.get(&get(r, "cohortid")).cloned()),
                    ("user", users.get(&get(r, "userid")).cloned()),
                ])
            })
            .collect(),
    );
    out.insert(
        "enrol".to_owned(),
        enrols
            .iter()
            .map(|r| {
                let cohort = get(r, "enrol") == "cohort";
                natural(&[
                    ("key", key.get(&get(r, "id")).cloned()),
                    ("enrol", r["enrol"].clone()),
                    ("status", r["status"].clone()),
                    ("sortorder", r["sortorder"].clone()),
                    ("name", r["name"].clone()),
                    ("role", roles.get(&get(r, "roleid")).cloned()),
                    (
                        "group",
                        cohort
                            .then(|| group_name.get(&get(r, "customint2")).cloned())
                            .flatten(),
                    ),
                    ("enrolperiod", r["enrolperiod"].clone()),
                    ("enrolstartdate", r["enrolstartdate"].clone()),
                    ("enrolenddate", r["enrolenddate"].clone()),
                ])
            })
            .collect(),
    );
    let ues = read_table(
        conn,
        mysql,
        "user_enrolments",
        &[
            "enrolid",
            "userid",
            "status",
            "timestart",
            "timeend",
            "modifierid",
        ],
    )
    .await?;
    out.insert(
        "user_enrolments".to_owned(),
        ues.iter()
            .map(|r| {
                natural(&[
                    ("enrol", key.get(&get(r, "enrolid")).cloned()),
                    ("user", users.get(&get(r, "userid")).cloned()),
                    ("status", r["status"].clone()),
                    ("timestart", r["timestart"].clone()),
                    ("timeend", r["timeend"].clone()),
                    ("modifier", users.get(&get(r, "modifierid")).cloned()),
                ])
            })
            .collect(),
    );
    let ras = read_table(
        conn,
        mysql,
        "role_assignments",
        &[
            "contextid",
            "userid",
            "roleid",
            "component",
            "itemid",
            "modifierid",
            "sortorder",
        ],
    )
    .await?;
    out.insert(
        "role_assignments".to_owned(),
        ras.iter()
            .map(|r| {
                natural(&[
                    ("context", contexts.get(&get(r, "contextid")).cloned()),
                    ("user", users.get(&get(r, "userid")).cloned()),
                    ("role", roles.get(&get(r, "roleid")).cloned()),
                    ("component", r["component"].clone()),
                    ("item", item(get(r, "itemid"))),
                    ("modifier", users.get(&get(r, "modifierid")).cloned()),
                    ("sortorder", r["sortorder"].clone()),
                ])
            })
            .collect(),
    );
    out.insert(
        "groups".to_owned(),
        groups
            .iter()
            .map(|r| {
                natural(&[
                    ("course", courses.get(&get(r, "courseid")).cloned()),
                    ("name", r["name"].clone()),
                    ("idnumber", r["idnumber"].clone()),
                    ("description", r["description"].clone()),
                    ("descriptionformat", r["descriptionformat"].clone()),
                    ("enrolmentkey", r["enrolmentkey"].clone()),
                    ("picture", r["picture"].clone()),
                    ("visibility", r["visibility"].clone()),
                    ("participation", r["participation"].clone()),
                ])
            })
            .collect(),
    );
    let group_course: HashMap<String, String> = groups
        .iter()
        .map(|r| {
            (
                get(r, "id"),
                courses
                    .get(&get(r, "courseid"))
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let gms = read_table(
        conn,
        mysql,
        "groups_members",
        &["groupid", "userid", "component", "itemid"],
    )
    .await?;
    out.insert(
        "groups_members".to_owned(),
        gms.iter()
            .map(|r| {
                natural(&[
                    ("course", group_course.get(&get(r, "groupid")).cloned()),
                    ("group", group_name.get(&get(r, "groupid")).cloned()),
                    ("user", users.get(&get(r, "userid")).cloned()),
                    ("component", r["component"].clone()),
                    ("item", item(get(r, "itemid"))),
                ])
            })
            .collect(),
    );
    for rows in out.values_mut() {
        rows.sort();
    }
    Ok(out)
}
