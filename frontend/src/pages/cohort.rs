//! One cohort of the cached snapshot (members, owner, bindings), and the form that binds it
//! to a course by hand: submitted as a one-row binding file, checked and reviewed like any
//! file.

use std::rc::Rc;

use cohortsync_shared::api::ChangesetDetail;
use cohortsync_shared::formats::{BindingRow, GroupChoice, RowCommand, binding_file};
use cohortsync_shared::options::{CohortIdentifier, CourseIdentifier, Options, RoleIdentifier};
use cohortsync_shared::snapshot::{BindingStatus, Snapshot};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use super::cohorts::owner_word;
use crate::api;
use crate::components::refusal;
use crate::hooks::use_ctx;
use crate::hooks::use_snapshot;
use crate::i18n::t;
use crate::routes::Route;

/// Which cohort to show.
#[derive(Properties, PartialEq)]
pub struct CohortPageProps {
    /// Its id.
    pub id: i64,
}

/// One cohort: members, bindings, and the form to bind it to a course.
#[function_component(CohortPage)]
pub fn cohort_page(props: &CohortPageProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let Some(snapshot) = use_snapshot() else {
        return html! { <p>{ t(lang, "loading") }</p> };
    };
    let Some(cohort) = snapshot.cohorts.iter().find(|c| c.id == props.id) else {
        return html! { <p role="alert">{ t(lang, "cohorts.not_found") }</p> };
    };
    let name_of = |id: i64| {
        snapshot
            .users
            .iter()
            .find(|u| u.id == id)
            .map(|u| format!("{} {}", u.firstname, u.lastname).trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let bindings: Vec<_> = snapshot
        .bindings
        .iter()
        .filter(|b| b.cohort == cohort.id)
        .collect();
    html! {
        <section aria-labelledby="cohort-title">
            <h2 id="cohort-title">{ &cohort.name }</h2>
            <dl class="meta">
                <dt>{ "idnumber" }</dt><dd>{ &cohort.idnumber }</dd>
                <dt>{ t(lang, "cohorts.owner") }</dt><dd>{ owner_word(lang, cohort.owner(), &cohort.component) }</dd>
                <dt>{ t(lang, "cohorts.members") }</dt><dd>{ cohort.members.len() }</dd>
            </dl>
            <h3>{ t(lang, "dry.courses") }</h3>
            if bindings.is_empty() {
                <p>{ t(lang, "cohorts.unbound") }</p>
            } else {
                <table data-testid="bindings">
                    <thead><tr>
                        <th scope="col">{ t(lang, "dry.course") }</th>
                        <th scope="col">{ t(lang, "bind.role") }</th>
                        <th scope="col">{ t(lang, "bind.group") }</th>
                        <th scope="col">{ t(lang, "bind.name") }</th>
                        <th scope="col">{ t(lang, "list.status") }</th>
                    </tr></thead>
                    <tbody>{ for bindings.iter().map(|b| html! {
                        <tr>
                            <th scope="row">{ snapshot.courses.iter().find(|k| k.id == b.course).map(|k| k.shortname.clone()).unwrap_or_default() }</th>
                            <td>{ snapshot.roles.iter().find(|r| r.id == b.role).map(|r| r.shortname.clone()).unwrap_or_default() }</td>
                            <td>{ b.group.and_then(|g| snapshot.groups.iter().find(|x| x.id == g)).map(|g| g.name.clone()).unwrap_or_default() }</td>
                            <td>{ &b.name }</td>
                            <td>{ match b.status {
                                BindingStatus::Active => t(lang, "bind.status.active"),
                                BindingStatus::Disabled => t(lang, "bind.status.disabled"),
                            } }</td>
                        </tr>
                    }) }</tbody>
                </table>
            }
            if ctx.me.is_some() {
                <BindForm snapshot={snapshot.clone()} cohort={cohort.id} />
            }
            <h3>{ t(lang, "cohorts.members") }</h3>
            <ul class="members" data-testid="members">
                { for cohort.members.iter().take(1000).map(|m| html! { <li>{ name_of(*m) }</li> }) }
            </ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct BindFormProps {
    snapshot: Rc<Snapshot>,
    cohort: i64,
}

/// Binds a cohort to a course: a one-row binding file, submitted as a changeset.
#[function_component(BindForm)]
fn bind_form(props: &BindFormProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let snapshot = &props.snapshot;
    let course = use_state(|| snapshot.courses.first().map(|c| c.id));
    let role = use_state(|| "student".to_owned());
    let group = use_state(|| "0".to_owned());
    let name = use_state(String::new);
    let active = use_state(|| true);
    let outcome = use_state(|| None::<Result<ChangesetDetail, api::ApiError>>);
    let groups: Vec<_> = snapshot
        .groups
        .iter()
        .filter(|g| Some(g.course) == *course)
        .collect();
    let on_course = {
        let (course, group) = (course.clone(), group.clone());
        Callback::from(move |e: Event| {
            course.set(
                e.target_unchecked_into::<HtmlSelectElement>()
                    .value()
                    .parse()
                    .ok(),
            );
            group.set("0".into());
        })
    };
    let on_role = {
        let role = role.clone();
        Callback::from(move |e: Event| {
            role.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_group = {
        let group = group.clone();
        Callback::from(move |e: Event| {
            group.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            name.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let on_active = {
        let active = active.clone();
        Callback::from(move |e: Event| {
            active.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };
    let on_submit = {
        let (snapshot, cohort_id) = (snapshot.clone(), props.cohort);
        let (course, role, group, outcome) =
            (course.clone(), role.clone(), group.clone(), outcome.clone());
        let (name, active) = (name.clone(), active.clone());
        let defaults = ctx.snapshot.defaults.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(cohort) = snapshot.cohorts.iter().find(|c| c.id == cohort_id) else {
                return;
            };
            let Some(course) = snapshot.courses.iter().find(|c| Some(c.id) == *course) else {
                return;
            };
            // The same rules as a file: this is the file an admin would have written.
            let (key, identifier) = if cohort.idnumber.is_empty() {
                (cohort.id.to_string(), CohortIdentifier::Id)
            } else {
                (cohort.idnumber.clone(), CohortIdentifier::Idnumber)
            };
            let group = match group.as_str() {
                "0" => GroupChoice::None,
                "1" => GroupChoice::NamedAfterCohort,
                id => match snapshot.groups.iter().find(|g| g.id.to_string() == id) {
                    Some(g) => GroupChoice::Existing(g),
                    None => GroupChoice::None,
                },
            };
            let file = binding_file(&[BindingRow {
                command: RowCommand::Add,
                dates: None,
                new_role: "",
                cohort: &key,
                course: &course.shortname,
                role: &role,
                group,
                name: name.trim(),
                status: if *active {
                    BindingStatus::Active
                } else {
                    BindingStatus::Disabled
                },
            }]);
            // The site's options (its unenrol action and limits), with the identifiers
            // this file uses.
            let options = Options {
                cohort_identifier: identifier,
                course_identifier: CourseIdentifier::Shortname,
                role_identifier: RoleIdentifier::Shortname,
                ..(*defaults).clone()
            };
            let outcome = outcome.clone();
            let name = format!("binding-{}-{}.csv", key, course.shortname);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match api::blob(file.as_bytes()) {
                    Ok(blob) => api::submit(&name, &blob, &options, lang).await,
                    Err(e) => Err(e),
                };
                outcome.set(Some(result));
            });
        })
    };
    html! {
        <form class="bind" onsubmit={on_submit} aria-labelledby="bind-title" data-testid="bind-form">
            <h3 id="bind-title">{ t(lang, "bind.title") }</h3>
            <div class="field">
                <label for="bind-course">{ t(lang, "dry.course") }</label>
                <select id="bind-course" onchange={on_course}>
                    { for snapshot.courses.iter().map(|c| html! {
                        <option value={c.id.to_string()} selected={Some(c.id) == *course}>{ format!("{} — {}", c.shortname, c.fullname) }</option>
                    }) }
                </select>
            </div>
            <div class="field">
                <label for="bind-role">{ t(lang, "bind.role") }</label>
                <select id="bind-role" onchange={on_role}>
                    { for snapshot.roles.iter().map(|r| html! {
                        <option value={r.shortname.clone()} selected={*role == r.shortname}>{ &r.shortname }</option>
                    }) }
                </select>
            </div>
            <div class="field">
                <label for="bind-group">{ t(lang, "bind.group") }</label>
                <select id="bind-group" onchange={on_group}>
                    <option value="0" selected={*group == "0"}>{ t(lang, "bind.group.none") }</option>
                    <option value="1" selected={*group == "1"}>{ t(lang, "bind.group.create") }</option>
                    { for groups.iter().map(|g| html! {
                        <option value={g.id.to_string()} selected={*group == g.id.to_string()}>{ &g.name }</option>
                    }) }
                </select>
            </div>
            <div class="field">
                <label for="bind-name">{ t(lang, "bind.name") }</label>
                <input id="bind-name" type="text" maxlength="255" value={(*name).clone()} oninput={on_name}
                    aria-describedby="bind-name-help" />
                <small id="bind-name-help">{ t(lang, "bind.name.help") }</small>
            </div>
            <div class="field check">
                <input id="bind-active" type="checkbox" checked={*active} onchange={on_active} />
                <label for="bind-active">{ t(lang, "bind.active") }</label>
            </div>
            <button type="submit" data-testid="bind-submit">{ t(lang, "bind.submit") }</button>
            { match &*outcome {
                Some(Ok(created)) => {
                    let id = created.record.summary.id;
                    html! { <p role="status" data-testid="bind-submitted">{ t(lang, "submit.done") }{" "}
                        <Link<Route> to={Route::Changeset { id }}>{ format!("#{id}") }</Link<Route>></p> }
                }
                Some(Err(error)) => refusal(lang, error),
                None => html! {},
            } }
        </form>
    }
}
