/work/main/target-base/release/deps/wasm_bindgen_test_macro-a00e004ef4d6d9ca.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-macro-0.3.80/src/lib.rs

/work/main/target-base/release/deps/libwasm_bindgen_test_macro-a00e004ef4d6d9ca.so: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-macro-0.3.80/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-test-macro-0.3.80/src/lib.rs:
