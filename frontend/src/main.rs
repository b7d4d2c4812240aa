//! The cohortsync web app, built to WebAssembly by Trunk and served by the backend.

fn main() {
    yew::Renderer::<cohortsync_frontend::app::App>::new().render();
}
