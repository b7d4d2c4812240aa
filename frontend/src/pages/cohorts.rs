//! The cohorts page: every cohort of the cached snapshot, with its owner and size.

use cohortsync_shared::snapshot::Owner;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::use_ctx;
use crate::hooks::use_snapshot;
use crate::i18n::t;
use crate::routes::Route;

pub(crate) fn owner_word(
    lang: cohortsync_shared::report::Lang,
    owner: Owner,
    component: &str,
) -> String {
    match owner {
        Owner::Manual => t(lang, "cohorts.owner.manual").to_owned(),
        Owner::Cohortsync => t(lang, "cohorts.owner.cohortsync").to_owned(),
        Owner::Other => format!("{} ({component})", t(lang, "cohorts.owner.other")),
    }
}

/// All cohorts.
#[function_component(CohortList)]
pub fn cohort_list() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let filter = use_state(String::new);
    let Some(snapshot) = use_snapshot() else {
        return html! { <section><h2>{ t(lang, "nav.cohorts") }</h2><p>{ t(lang, "snapshot.none") }</p></section> };
    };
    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |e: InputEvent| {
            filter.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let needle = filter.to_lowercase();
    let shown: Vec<_> = snapshot
        .cohorts
        .iter()
        .filter(|c| {
            needle.is_empty()
                || c.name.to_lowercase().contains(&needle)
                || c.idnumber.to_lowercase().contains(&needle)
        })
        .take(500)
        .collect();
    html! {
        <section aria-labelledby="cohorts-title">
            <h2 id="cohorts-title">{ t(lang, "nav.cohorts") }</h2>
            <label for="cohort-filter">{ t(lang, "cohorts.search") }</label>
            <input id="cohort-filter" type="search" oninput={on_filter} />
            <table data-testid="cohorts">
                <thead><tr>
                    <th scope="col">{ t(lang, "dry.cohort") }</th>
                    <th scope="col">{ "idnumber" }</th>
                    <th scope="col">{ t(lang, "cohorts.owner") }</th>
                    <th scope="col">{ t(lang, "cohorts.members") }</th>
                    <th scope="col">{ t(lang, "dry.courses") }</th>
                </tr></thead>
                <tbody>
                    { for shown.iter().map(|c| {
                        let courses: Vec<String> = snapshot.bindings.iter().filter(|b| b.cohort == c.id)
                            .filter_map(|b| snapshot.courses.iter().find(|k| k.id == b.course))
                            .map(|k| k.shortname.clone()).collect();
                        html! {
                            <tr data-cohort={c.idnumber.clone()}>
                                <th scope="row"><Link<Route> to={Route::Cohort { id: c.id }}>{ &c.name }</Link<Route>></th>
                                <td>{ &c.idnumber }</td>
                                <td>{ owner_word(lang, c.owner(), &c.component) }</td>
                                <td>{ c.members.len() }</td>
                                <td>{ courses.join(", ") }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}
