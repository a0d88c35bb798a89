# assetc's tasks. `just` lists them; `just serve` builds and serves the demo site in assets/.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the tasks
default:
    @just --list

# Build the demo site in assets/ and serve it on 127.0.0.1:8080
serve: build
    ./target/release/assetc serve --root build --bind 127.0.0.1:8080

# Build the demo site in assets/ into build/
build:
    cargo build --release --locked
    ./target/release/assetc build --input assets --output build

# Run every test: unit, end-to-end (real binary, real sockets, curl)
test:
    cargo test --workspace --locked

# Formatting and clippy, warnings as errors
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Fuzz every target in fuzz/ for a bounded time each (`just fuzz 300`); new inputs go to
# fuzz/target/corpus/, crashes to fuzz/artifacts/. Needs `cargo install cargo-fuzz --locked`.
fuzz seconds="60":
    cd fuzz && for target in $(cargo fuzz list); do \
        mkdir -p "target/corpus/$target"; \
        RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "target/corpus/$target" "corpus/$target" -- \
            -max_total_time={{seconds}} -max_len=65536 -timeout=10; \
    done
