/work/main/target-base/wasm32-unknown-unknown/release/deps/cfg_if-baf72117e913aa2f.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcfg_if-baf72117e913aa2f.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcfg_if-baf72117e913aa2f.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg-if-1.0.5/src/lib.rs:
