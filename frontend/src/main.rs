//! The cohortsync web app, built to WebAssembly by Trunk and served by the backend.

mod app;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
