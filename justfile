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
