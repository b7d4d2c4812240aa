/work/main/target-base/wasm32-unknown-unknown/release/deps/crypto_common-fd84d6428d084b3a.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcrypto_common-fd84d6428d084b3a.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcrypto_common-fd84d6428d084b3a.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs:
