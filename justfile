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

# Run every test: unit, end-to-end (real binary, real sockets, curl, wrk), the browser tests, then the real-world corpus when its tools are installed (`just test-realworld` ran once here) or on CI
test: test-deps && _browser-tests _realworld-when-installed
    cargo test --workspace --locked
    {{just_executable()}} test-python

# The real-world corpus (tests/realworld.rs): npm packages, and Vite + React, Material for MkDocs, Sphinx + furo and Django at pinned versions (tests/realworld/: package-lock.json, requirements.txt; installed once under target/tmp/), built with README's flags, crawled, and loaded in Chromium from assetc serve and python3 -m http.server
test-realworld: test-deps
    cargo test --locked --features realworld --test tests realworld

# `just test`'s last step: the real-world corpus, but only on CI or once its tools are installed, so that a first `just test` downloads nothing beyond what test-deps installs
_realworld-when-installed:
    #!/usr/bin/env bash
    set -euo pipefail
    tmp="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/tmp"
    # The stamps tests/realworld.rs writes after each install.
    installed=true
    for stamp in realworld/venv/assetc-requirements.txt realworld/vite/node_modules/.assetc-lock.json corpus/bootstrap-5.3.3.tgz; do
        [ -f "$tmp/$stamp" ] || installed=false
    done
    if [ -n "${CI:-}" ] || [ "$installed" = true ]; then
        cargo test --locked --features realworld --test tests realworld
    else
        echo "skipping the real-world corpus: its tools are not installed (\`just test-realworld\` installs them once under target/tmp/)" >&2
    fi

# The browser tests (tests/browser/): Chromium against the real binary; screenshots in target/browser-artifacts/
test-browser: && _browser-tests
    cargo build --locked --bin assetc

# tests/browser/ on the debug binary that `cargo test` (its features) or `cargo build` left
_browser-tests: test-deps
    ASSETC_BIN="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/debug/assetc" \
        node --test --test-timeout=180000 tests/browser/browser.test.mjs tests/browser/dev.test.mjs tests/browser/preload.test.mjs tests/browser/report.test.mjs tests/browser/dictionaries.test.mjs

# Install what the tests run, when missing: Debian packages (apt-get; sudo unless root), then tests/browser's npm packages
test-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    missing=()
    # need COMMAND-OR-PATH PACKAGE: what a test runs, and the Debian package that has it.
    need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
    need curl curl                  # tests/serve.rs: the manual check, as a person runs it
    need wrk wrk                    # tests/hostile.rs: a thousand connections; `just soak`
    need zstd zstd                  # tests/dictionaries.rs: decodes dcz deltas
    need /usr/bin/time time         # tests/faults.rs: the peak memory of a build
    need /usr/bin/chromium chromium # tests/browser
    need /usr/sbin/varnishd varnish # tests/cache.rs: Varnish in front of two replicas
    need /usr/sbin/nginx nginx      # tests/cache.rs: nginx's proxy_cache in front of them
    need node nodejs                # tests/browser: Node's test runner (npm comes with it, or below)
    need bash bash                  # `ulimit -n` around the server and wrk
    need flock util-linux           # tests/build.rs: a build lock held from outside
    need mkfifo coreutils           # tests/build.rs: an input that blocks
    need tar tar                    # tests/realworld.rs: unpacking npm's tarballs
    need python3 python3            # tests/realworld.rs: the reference oracle, the PyPI tools, http.server
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} (apt-get)" >&2
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    # tests/browser's install (also tests/realworld.rs's browser); tests/realworld.rs:
    # `npm pack`, `npm ci` of the Vite app. Debian packages it apart from
    # its nodejs, NodeSource's nodejs bundles it.
    if ! command -v npm >/dev/null 2>&1; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm >/dev/null
    fi
    # tests/publish.rs: s3s-fs 0.14.1, a real S3 server (the newest release that builds on
    # rustc 1.95), built once into the target dir and kept there.
    tools="${CARGO_TARGET_DIR:-{{justfile_directory()}}/target}/tools"
    if [ ! -x "$tools/s3s-fs/bin/s3s-fs" ]; then
        echo "installing s3s-fs 0.14.1 into $tools/s3s-fs (cargo install, a few minutes once)" >&2
        cargo install s3s-fs --version 0.14.1 --features binary --locked --quiet \
            --root "$tools/s3s-fs" --target-dir "$tools/s3s-fs-build"
        rm -rf "$tools/s3s-fs-build"
    fi
    # tests/publish.rs: moto's server mode, the second S3 opinion (it answers 304), in a venv.
    moto="$tools/moto-venv"
    if [ ! -x "$moto/bin/moto_server" ]; then
        python3 -m venv "$moto"
        "$moto/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.1'
    fi
    # npm ci again only when the lockfile changed since the last install.
    stamp=tests/browser/node_modules/.assetc-installed-lock
    if ! cmp -s tests/browser/package-lock.json "$stamp"; then
        npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null
        cp tests/browser/package-lock.json "$stamp"
    fi

# The old name of test-deps
alias browser-deps := test-deps

# The Python wheel (release; the `assetc` binary plus the `assetc` package) into target/wheels/
wheel: _python-venv
    rm -f target/wheels/assetc-*.whl
    cd python && {{justfile_directory()}}/target/python/venv/bin/maturin build --release --strip --locked --out "{{justfile_directory()}}/target/wheels"

# Python (python/, examples/): a dev wheel into target/python/venv, pytest, the Flask example in Chromium
test-python: _python-venv test-deps
    #!/usr/bin/env bash
    set -euo pipefail
    venv="{{justfile_directory()}}/target/python/venv"
    wheels="{{justfile_directory()}}/target/python/wheels"
    rm -rf "$wheels"
    # Stripped: a small wheel installs in a second; only the binary's own crate is relinked.
    (cd python && "$venv/bin/maturin" build --profile dev --strip --locked --compression-level 1 --out "$wheels")
    wheel=$(ls "$wheels"/assetc-*.whl)
    "$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"
    ASSETC_WHEEL="$wheel" "$venv/bin/python" -m pytest python/tests -q
    ASSETC_BIN="$venv/bin/assetc" ASSETC_PYTHON_VENV="$venv" \
        node --test --test-timeout=120000 tests/browser/python.test.mjs

# target/python/venv: maturin, pytest and the examples' frameworks; reinstalled when python/requirements-dev.txt changes
_python-venv:
    #!/usr/bin/env bash
    set -euo pipefail
    venv="{{justfile_directory()}}/target/python/venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    stamp="$venv/.assetc-installed-requirements"
    if ! cmp -s python/requirements-dev.txt "$stamp"; then
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-dev.txt
        cp python/requirements-dev.txt "$stamp"
    fi

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

# Soak (not part of `just test`): serve the demo build under wrk in rounds for SOAK_SECONDS
# (default 600), sampling the server's RSS; fails unless RSS stays flat and no request fails
soak:
    cargo build --release --locked
    bash tests/soak/soak.sh

# Benchmarks vs cp -r, openssl, compression CLIs, collectstatic, WhiteNoise, nginx (long; target/bench/)
bench:
    cargo build --release --locked
    python3 tests/bench/bench.py

# A short run of the benchmarks (a few minutes once target/bench/ is set up)
bench-quick:
    cargo build --release --locked
    python3 tests/bench/bench.py --quick
