#!/usr/bin/env bash
# packet_shaper_latency.sh — benchmark: configured shaper delay vs the round
# trip measured between two namespaces (prints numbers, asserts nothing).
set -eu
exec "${RAPAT_BUILD:-build/default}/tests/integration/nemesis_packet_shaper" bench
