#!/usr/bin/env bash
# Builds the Lambda zips for provided.al2023 on x86_64: target/lambda/<function>/bootstrap.zip
# for dragnet-scan-lambda and dragnet-quarantine-lambda, each holding one `bootstrap`.
# cargo-lambda and Zig (which links against Amazon Linux's glibc) come from PyPI into
# target/deploy-tools/lambda on first use; nothing else is downloaded. Then the zips are
# inspected (`cargo test --test deploy -- --ignored`): bootstrap present and executable, an
# x86-64 ELF as the template's Architectures say, needing no glibc newer than al2023's 2.34.
#
# arm64 (Graviton) needs the aarch64-unknown-linux-gnu Rust target (`rustup target add`),
# then `cargo lambda build --release --arm64` and `Architectures: [arm64]` in the template.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/deploy-tools/lambda
if [ ! -x "$tools/bin/cargo-lambda" ] || [ ! -x "$tools/bin/python-zig" ]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check 'cargo-lambda>=1.8,<2' 'ziglang>=0.13'
fi
export PATH="$PWD/$tools/bin:$PATH"
# No debug info or symbols in the functions: smaller zips, faster cold starts.
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo lambda build --release --x86-64 -p dragnet-lambda --output-format zip
cargo test --test deploy -- --ignored --exact lambda_zips_hold_an_al2023_bootstrap
ls -l target/lambda/*/bootstrap.zip
