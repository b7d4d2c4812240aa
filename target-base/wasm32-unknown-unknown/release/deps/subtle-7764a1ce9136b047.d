/work/main/target-base/wasm32-unknown-unknown/release/deps/subtle-7764a1ce9136b047.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/subtle-2.6.1/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libsubtle-7764a1ce9136b047.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/subtle-2.6.1/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libsubtle-7764a1ce9136b047.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/subtle-2.6.1/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/subtle-2.6.1/src/lib.rs:
