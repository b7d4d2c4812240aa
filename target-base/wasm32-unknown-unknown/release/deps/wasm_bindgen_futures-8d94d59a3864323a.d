/work/main/target-base/wasm32-unknown-unknown/release/deps/wasm_bindgen_futures-8d94d59a3864323a.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libwasm_bindgen_futures-8d94d59a3864323a.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libwasm_bindgen_futures-8d94d59a3864323a.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs:
