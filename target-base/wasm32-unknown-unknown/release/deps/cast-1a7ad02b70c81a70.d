/work/main/target-base/wasm32-unknown-unknown/release/deps/cast-1a7ad02b70c81a70.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cast-0.3.0/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcast-1a7ad02b70c81a70.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cast-0.3.0/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcast-1a7ad02b70c81a70.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cast-0.3.0/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cast-0.3.0/src/lib.rs:
