//! The courses page: every course of the cached snapshot, with its groups and bound
//! cohorts.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::use_ctx;
use crate::hooks::use_snapshot;
use crate::i18n::t;
use crate::routes::Route;

/// All courses, with their groups and bound cohorts.
#[function_component(CourseList)]
pub fn course_list() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let Some(snapshot) = use_snapshot() else {
        return html! { <section><h2>{ t(lang, "nav.courses") }</h2><p>{ t(lang, "snapshot.none") }</p></section> };
    };
    html! {
        <section aria-labelledby="courses-title">
            <h2 id="courses-title">{ t(lang, "nav.courses") }</h2>
            <table data-testid="courses">
                <thead><tr>
                    <th scope="col">{ "shortname" }</th>
                    <th scope="col">{ t(lang, "courses.fullname") }</th>
                    <th scope="col">{ t(lang, "dry.groups") }</th>
                    <th scope="col">{ t(lang, "dry.cohorts") }</th>
                </tr></thead>
                <tbody>
                    { for snapshot.courses.iter().take(1000).map(|c| {
                        let groups: Vec<String> = snapshot.groups.iter().filter(|g| g.course == c.id).map(|g| g.name.clone()).collect();
                        let cohorts: Vec<Html> = snapshot.bindings.iter().filter(|b| b.course == c.id)
                            .filter_map(|b| snapshot.cohorts.iter().find(|k| k.id == b.cohort))
                            .map(|k| html! { <Link<Route> to={Route::Cohort { id: k.id }}>{ &k.name }</Link<Route>> })
                            .collect();
                        html! {
                            <tr data-course={c.shortname.clone()}>
                                <th scope="row">{ &c.shortname }</th>
                                <td>{ &c.fullname }</td>
                                <td>{ groups.join(", ") }</td>
                                <td class="links">{ for cohorts }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}
