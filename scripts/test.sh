#!/usr/bin/env bash
# The whole test suite on SQLite and on a real PostgreSQL server that the tests start.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k manager -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
export PATH="$HOME/.local/bin:$PATH"
exec uv run --locked pytest "$@"
