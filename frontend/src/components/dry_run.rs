//! A dry run shown as tables: what a check page shows of a file, and a changeset page of
//! its stored plan.

use std::rc::Rc;

use cohortsync_shared::dry_run::{DryRun, Person};
use yew::prelude::*;

use crate::hooks::use_ctx;
use crate::i18n::t;

/// What a dry run view shows.
#[derive(Properties, PartialEq)]
pub struct DryRunProps {
    /// The plan per cohort and course.
    pub dry: Rc<DryRun>,
    /// The plan's totals.
    pub totals: cohortsync_shared::changeset::Totals,
    /// How many cohorts and courses the whole dry run has, when `dry` holds only the first
    /// [`ROWS_SHOWN`] of each (a check's, until "show all").
    #[prop_or_default]
    pub rows: Option<(usize, usize)>,
    /// Asks for the whole dry run, when `dry` holds only the first rows.
    #[prop_or_default]
    pub on_show_all: Option<Callback<()>>,
}

fn people(list: &[Person], count: usize) -> String {
    let mut names: Vec<String> = list.iter().take(20).map(|p| p.label()).collect();
    if count > names.len() {
        names.push(format!("… (+{})", count - names.len()));
    }
    names.join(", ")
}

/// Rows of each dry-run table shown before "show all".
pub const ROWS_SHOWN: usize = 100;

/// The plan per cohort (created, members added and removed, with names) and per course
/// (enrolled, suspended, unenrolled, roles taken or given back with the enrolment kept,
/// groups, and the people whose last enrolment goes, taking their other roles and groups in
/// the course with it), with totals.
#[function_component(DryRunView)]
pub fn dry_run_view(props: &DryRunProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let dry = &props.dry;
    let totals = &props.totals;
    // A nightly export can touch thousands of cohorts: the first ones, then all on demand.
    let show_all = use_state(|| false);
    let shown = if *show_all { usize::MAX } else { ROWS_SHOWN };
    let on_show_all = {
        let (show_all, ask) = (show_all.clone(), props.on_show_all.clone());
        Callback::from(move |_| {
            show_all.set(true);
            if let Some(ask) = &ask {
                ask.emit(());
            }
        })
    };
    let (cohorts, courses) = props.rows.unwrap_or((dry.cohorts.len(), dry.courses.len()));
    if dry.cohorts.is_empty() && dry.courses.is_empty() {
        return html! { <section data-testid="dry-run"><h3>{ t(lang, "dry.title") }</h3><p>{ t(lang, "dry.nothing") }</p></section> };
    }
    html! {
        <section aria-labelledby="dry-title" class="dry-run" data-testid="dry-run">
            <h3 id="dry-title">{ t(lang, "dry.title") }</h3>
            <p class="totals" data-testid="totals">{ format!(
                "{}: {} +{} / −{}; {} {}, {} {}, {} {}",
                t(lang, "dry.totals"), t(lang, "dry.members"), totals.members_added, totals.members_removed,
                totals.enrolments, t(lang, "dry.enrolled").to_lowercase(),
                totals.unenrolments, t(lang, "dry.unenrolled").to_lowercase(),
                totals.suspensions, t(lang, "dry.suspended").to_lowercase(),
            ) }</p>
            if !dry.cohorts.is_empty() {
                <table class="dry cohorts" data-testid="dry-cohorts">
                    <caption>{ t(lang, "dry.cohorts") }</caption>
                    <thead><tr>
                        <th scope="col">{ t(lang, "dry.cohort") }</th>
                        <th scope="col">{ t(lang, "dry.members_before") }</th>
                        <th scope="col">{ t(lang, "dry.added") }</th>
                        <th scope="col">{ t(lang, "dry.removed") }</th>
                    </tr></thead>
                    <tbody>
                        { for dry.cohorts.iter().take(shown).map(|c| {
                            let mut flags = Vec::new();
                            if c.created { flags.push(t(lang, "dry.created")); }
                            if c.updated { flags.push(t(lang, "dry.updated")); }
                            if c.deleted { flags.push(t(lang, "dry.deleted")); }
                            html! {
                                <tr data-cohort={c.idnumber.clone()}>
                                    <th scope="row">{ &c.name }{ if c.idnumber.is_empty() { String::new() } else { format!(" ({})", c.idnumber) } }
                                        { for flags.iter().map(|f| html! { <span class="flag">{ *f }</span> }) }</th>
                                    <td>{ c.members_before }</td>
                                    <td>{ format!("+{}", c.added_count) }<span class="people">{ people(&c.added, c.added_count) }</span></td>
                                    <td>{ format!("−{}", c.removed_count) }<span class="people">{ people(&c.removed, c.removed_count) }</span></td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
            if !dry.courses.is_empty() {
                <table class="dry courses" data-testid="dry-courses">
                    <caption>{ t(lang, "dry.courses") }</caption>
                    <thead><tr>
                        <th scope="col">{ t(lang, "dry.course") }</th>
                        <th scope="col">{ t(lang, "dry.enrolled") }</th>
                        <th scope="col">{ t(lang, "dry.suspended") }</th>
                        <th scope="col">{ t(lang, "dry.unenrolled") }</th>
                        <th scope="col">{ t(lang, "dry.roles") }</th>
                        <th scope="col">{ t(lang, "dry.groups") }</th>
                        <th scope="col">{ t(lang, "dry.left") }</th>
                    </tr></thead>
                    <tbody>
                        { for dry.courses.iter().take(shown).map(|c| html! {
                            <tr data-course={c.shortname.clone()}>
                                <th scope="row">{ if c.shortname.is_empty() { format!("#{}", c.id) } else { c.shortname.clone() } }</th>
                                <td>{ c.enrolled }</td>
                                <td>{ c.suspended }</td>
                                <td>{ c.unenrolled }</td>
                                <td>{ format!("+{} / −{}", c.roles_assigned, c.roles_removed) }</td>
                                <td>{ format!("+{} / −{}{}", c.added_to_groups, c.removed_from_groups,
                                    if c.groups_created.is_empty() { String::new() } else { format!(" ({})", c.groups_created.join(", ")) }) }</td>
                                <td data-testid="left">{ c.left_count }
                                    if c.left_count > 0 {
                                        <span class="people" title={ t(lang, "dry.left_help") }>{ people(&c.left, c.left_count) }</span>
                                    }
                                </td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            if !*show_all && (cohorts > ROWS_SHOWN || courses > ROWS_SHOWN) {
                <button type="button" data-testid="dry-show-all" onclick={on_show_all}>{ format!("{} ({} / {})", t(lang, "dry.show_all"), cohorts, courses) }</button>
            }
        </section>
    }
}
