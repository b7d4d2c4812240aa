//! Sign in.

use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::hooks::use_ctx;
use crate::i18n::t;
use crate::routes::Route;

/// The sign-in form.
#[function_component(LoginPage)]
pub fn login_page() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let navigator = use_navigator();
    let username = use_node_ref();
    let password = use_node_ref();
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (username, password, error) = (username.clone(), password.clone(), error.clone());
        let set_me = ctx.set_me.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let name = username
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            let secret = password
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            let (error, set_me, navigator) = (error.clone(), set_me.clone(), navigator.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::login(&name, &secret).await {
                    Ok(me) => {
                        set_me.emit(Some(me));
                        if let Some(navigator) = navigator {
                            navigator.push(&Route::Check);
                        }
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    html! {
        <section aria-labelledby="login-title">
            <h2 id="login-title">{ t(lang, "login.title") }</h2>
            <form onsubmit={onsubmit} class="login">
                <label for="username">{ t(lang, "login.username") }</label>
                <input id="username" name="username" autocomplete="username" ref={username} required=true />
                <label for="password">{ t(lang, "login.password") }</label>
                <input id="password" name="password" type="password" autocomplete="current-password" ref={password} required=true />
                <button type="submit">{ t(lang, "login.submit") }</button>
            </form>
            if let Some(message) = &*error {
                <p role="alert" class="error" data-testid="login-error">{ message }</p>
            }
        </section>
    }
}
