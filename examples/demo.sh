#!/usr/bin/env bash
# demo.sh - what `./run demo` shows (replaced as the layers land).
set -euo pipefail
build/bin/sluice version
