//! The `mdl_logstore_standard_log` rows Moodle writes for the events of cohort and
//! cohort-sync changes (FACTS.md §11), so that Moodle's own logs show what cohortsync did:
//! component `core`, edulevel 0, the acting user, origin `cli` and no IP (cohortsync is not
//! a browser), the `other` column as JSON text (`null` when empty). Written only when the
//! site logs to its standard store (`Moodle::logs_to_standard_store`).

use sqlx::AnyConnection;

use crate::store::StoreResult;
use crate::store::bulk::{self, Value};

/// A context as a log row names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogContext {
    /// `mdl_context.id`.
    pub id: i64,
    /// Its level (10 system, 40 category, 50 course).
    pub level: i64,
    /// The id of what it is the context of.
    pub instance: i64,
}

/// One event: `\core\event\NAME`, with target and action read from `NAME`.
#[derive(Debug, Clone)]
pub struct Event {
    /// `cohort_member_added`, `role_assigned`…
    pub name: &'static str,
    /// c, r, u or d.
    pub crud: &'static str,
    /// The table of the object, and its id.
    pub object: Option<(&'static str, i64)>,
    /// Where it happened.
    pub context: LogContext,
    /// The course (0 outside courses).
    pub course: i64,
    /// The user it is about.
    pub related_user: Option<i64>,
    /// The `other` JSON text (`null` when empty).
    pub other: String,
}

impl Event {
    /// An event about `user` in a course (`at` = the course's context and id).
    pub fn about(
        user: i64,
        name: &'static str,
        crud: &'static str,
        object: (&'static str, i64),
        at: (LogContext, i64),
        other: impl Into<String>,
    ) -> Event {
        Event {
            name,
            crud,
            object: Some(object),
            context: at.0,
            course: at.1,
            related_user: Some(user),
            other: other.into(),
        }
    }
}

/// Events collected during an apply, written at its end in the order they happened.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
}

impl EventLog {
    /// Records `event`.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Writes every event into `table` as `actor` at `now`.
    pub async fn write(
        self,
        conn: &mut AnyConnection,
        table: &str,
        actor: i64,
        now: i64,
    ) -> StoreResult<()> {
        let rows: Vec<Vec<Value>> = self
            .events
            .into_iter()
            .map(|e| {
                let (target, action) = e.name.rsplit_once('_').unwrap_or((e.name, ""));
                vec![
                    format!("\\core\\event\\{}", e.name).into(),
                    "core".into(),
                    action.into(),
                    target.into(),
                    Value::OptText(e.object.map(|(t, _)| t.to_owned())),
                    e.object.map(|(_, id)| id).into(),
                    e.crud.into(),
                    0.into(),
                    e.context.id.into(),
                    e.context.level.into(),
                    e.context.instance.into(),
                    actor.into(),
                    e.course.into(),
                    e.related_user.into(),
                    0.into(),
                    e.other.into(),
                    now.into(),
                    "cli".into(),
                ]
            })
            .collect();
        bulk::insert(
            conn,
            table,
            &[
                "eventname",
                "component",
                "action",
                "target",
                "objecttable",
                "objectid",
                "crud",
                "edulevel",
                "contextid",
                "contextlevel",
                "contextinstanceid",
                "userid",
                "courseid",
                "relateduserid",
                "anonymous",
                "other",
                "timecreated",
                "origin",
            ],
            &rows,
            "",
        )
        .await?;
        Ok(())
    }
}

/// `{"enrol":"cohort"}`: the `other` of enrolment-instance and user-enrolment events.
pub const ENROL_COHORT: &str = r#"{"enrol":"cohort"}"#;

/// The `other` of `role_assigned`: the assignment's id as a number, the item as a string.
pub fn role_assigned(id: i64, component: &str, item: i64) -> String {
    serde_json::json!({"id": id, "component": component, "itemid": item.to_string()}).to_string()
}

/// The `other` of `role_unassigned`: the assignment's id as a string (Moodle's quirk).
pub fn role_unassigned(id: i64, component: &str, item: i64) -> String {
    serde_json::json!({"id": id.to_string(), "component": component, "itemid": item.to_string()})
        .to_string()
}

/// The `other` of `group_member_added`.
pub fn group_member_added(item: i64) -> String {
    serde_json::json!({"component": "enrol_cohort", "itemid": item.to_string()}).to_string()
}
