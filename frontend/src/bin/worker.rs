//! The check worker: runs the shared rules off the page's thread.

use gloo_worker::Registrable;

fn main() {
    cohortsync_frontend::worker::CheckWorker::registrar()
        .encoding::<cohortsync_frontend::worker::Js>()
        .register();
}
