/work/main/target-base/wasm32-unknown-unknown/release/deps/oorandom-6f7116a863f462b8.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/oorandom-11.1.5/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/liboorandom-6f7116a863f462b8.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/oorandom-11.1.5/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/liboorandom-6f7116a863f462b8.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/oorandom-11.1.5/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/oorandom-11.1.5/src/lib.rs:
