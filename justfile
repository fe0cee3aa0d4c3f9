# dragnet tasks. The README's two commands do not need `just`; these are conveniences.
# Install: `cargo install just` or `pip install rust-just`.

# The embedded end-to-end demo on the bundled sample.
demo:
    cargo run --release -- demo

# The whole test suite (what CI runs, with fmt and clippy).
test:
    bash .ci/run

# Format and lint.
lint:
    cargo fmt --all
    cargo clippy --all-targets -- -D warnings

# Regenerate the committed sample bucket (scale 0.1, seed 2020).
sample-data:
    rm -rf sample-data/buckets/synthea-data-111222333444-us-east-1
    cargo run --release -- sample-data --scale 0.1 --out sample-data/buckets/synthea-data-111222333444-us-east-1

# End-to-end benchmark (MB/s, objects/s, CPU, peak RSS, next to ripgrep); writes bench/results/.
bench *ARGS:
    python3 bench/run.py {{ARGS}}

# Engine micro-benchmarks (criterion).
bench-engine:
    cargo bench -p dragnet-detect --bench engine

# Lambda zips for provided.al2023 (cargo-lambda and Zig from PyPI), then inspected.
package-lambda:
    bash deploy/package-lambda.sh

# cfn-lint, asl-validator and kubernetes-validate on deploy/ (as CI runs them).
check-deploy:
    bash deploy/check.sh
