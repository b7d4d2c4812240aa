/work/main/target-base/wasm32-unknown-unknown/release/deps/wasm_bindgen_test_shared-49184bfb5bf53c18.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-shared-0.2.130/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libwasm_bindgen_test_shared-49184bfb5bf53c18.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-shared-0.2.130/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libwasm_bindgen_test_shared-49184bfb5bf53c18.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-shared-0.2.130/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-shared-0.2.130/src/lib.rs:
