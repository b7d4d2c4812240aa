/work/main/target-base/release/deps/multiversion_no_op-836204aafda20522.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/multiversion_no_op-1.0.0/src/lib.rs

/work/main/target-base/release/deps/libmultiversion_no_op-836204aafda20522.so: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/multiversion_no_op-1.0.0/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/multiversion_no_op-1.0.0/src/lib.rs:
