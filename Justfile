# cratedigger: `just demo` runs the fleet on a sample playlist, `just test` runs the tests.
set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes
[private]
default:
    @just --list --unsorted

# Ensure Postgres (127.0.0.1:5432), Redis (127.0.0.1:6379) and the `cratedigger` database
setup:
    bash deploy/scripts/ensure-services.sh

# Run every test (unit, integration, end-to-end on the real binaries) against local services
test: setup
    bash deploy/scripts/check-ops.sh
    cargo build --workspace --bins
    @if cargo nextest --version >/dev/null 2>&1; then \
        echo "cargo nextest run --workspace --no-fail-fast"; \
        cargo nextest run --workspace --no-fail-fast; \
    else \
        echo "cargo-nextest not found (cargo install cargo-nextest --locked); cargo test --workspace --no-fail-fast"; \
        cargo test --workspace --no-fail-fast; \
    fi

# Check formatting and lints (clippy with warnings as errors)
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Sync samples/demo-playlist.m3u through the whole fleet against a local fixture server
demo: setup
    cargo build --workspace --bins
    bash deploy/scripts/demo.sh

# Sync FILE against the live platforms; start the fleet first with `just up` in another terminal
[no-cd]
sync FILE:
    cargo run --release -p cratedigger -- sync "{{ FILE }}" --wait

# Run the whole fleet (scheduler API + every worker) in one process on local defaults
up: setup
    cargo run --release -p cratedigger -- up

# Run a benchmark and append its results to docs/benchmarks.md (available: queue, sync, music, acquisition, ranking, rekordbox, lead)
bench WHAT:
    #!/usr/bin/env bash
    set -euo pipefail
    case "{{ WHAT }}" in
        queue)
            bash deploy/scripts/ensure-services.sh
            set -x
            cargo run --release -p cratedigger-e2e --bin bench-queue -- --runs 3 --markdown docs/benchmarks.md
            ;;
        sync)
            bash deploy/scripts/ensure-services.sh
            set -x
            cargo build --release --bins -p cratedigger -p cratedigger-workers
            cargo run --release -p cratedigger-e2e --bin bench-sync -- --markdown docs/benchmarks.md
            ;;
        music)
            bash deploy/scripts/ensure-services.sh
            set -x
            cargo run --release -p cratedigger-e2e --bin bench-music -- --markdown docs/benchmarks.md
            ;;
        acquisition)
            set -x
            cargo run --release -p cratedigger-e2e --bin bench-acquisition -- --markdown docs/benchmarks.md
            ;;
        ranking)
            set -x
            cargo run --release -p cratedigger-e2e --bin bench-ranking -- --markdown docs/benchmarks.md
            ;;
        rekordbox)
            set -x
            python3 -c "import pyrekordbox" 2>/dev/null || python3 -m pip install --quiet pyrekordbox || true
            cargo run --release -p cratedigger-e2e --bin bench-rekordbox -- --markdown docs/benchmarks.md
            ;;
        lead)
            bash deploy/scripts/ensure-services.sh
            set -x
            cargo build --release --bins -p cratedigger -p cratedigger-workers
            cargo run --release -p cratedigger-e2e --bin bench-lead -- --markdown docs/benchmarks.md
            ;;
        *)
            echo "unknown benchmark '{{ WHAT }}'; available benchmarks:" >&2
            echo "  queue  enqueue and drain 50,000 jobs through the fleet's queue layer and worker runtime," >&2
            echo "         interactive pickup latency behind 10,000 batch jobs; ratios to redis-benchmark" >&2
            echo "  sync   a 2,000-track sync through the real binaries against the fixture server at 20x the" >&2
            echo "         platforms' limits: wall time vs the rate-limit lower bound, requests per track, speed-up" >&2
            echo "  music  duplicate check against a generated 1,000,000-track library (one track p50/p99, a" >&2
            echo "         10,000-track batch) and matching accuracy on a labelled set from the fixtures" >&2
            echo "  acquisition  fake-lossless detector on generated signals: 128-320 kbps MP3-to-FLAC transcodes" >&2
            echo "         caught, genuine FLACs flagged, CPU per minute of audio vs flac -t (needs flac, lame)" >&2
            echo "  ranking  rank 10,000 wanted tracks x 50 generated candidates (items/s, candidates/s), against" >&2
            echo "         clone+sort by bitrate and matching::score alone in the same run; folder grouping" >&2
            echo "  lead   20 scripted chat requests (3-5 tracks each, 150 ms per LLM turn) through the real binaries:" >&2
            echo "         planning overhead per request, jobs spawned, wall with 4 parallel scouts vs one after another" >&2
            echo "  rekordbox  10,000 tracks with 8 cues each written into a fresh master.db in one session and" >&2
            echo "         read back, encrypted and plaintext; pyrekordbox doing the same as the anchor" >&2
            exit 1
            ;;
    esac
