/work/main/target-base/wasm32-unknown-unknown/release/examples/wasm_bench-a9d99ce3abf98dd5.d: shared/examples/wasm_bench.rs shared/examples/../benches/common/site.rs

/work/main/target-base/wasm32-unknown-unknown/release/examples/wasm_bench-a9d99ce3abf98dd5.wasm: shared/examples/wasm_bench.rs shared/examples/../benches/common/site.rs

shared/examples/wasm_bench.rs:
shared/examples/../benches/common/site.rs:
