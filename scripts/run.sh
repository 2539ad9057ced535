#!/usr/bin/env bash
# Runs the bot with the settings in .env (see .env.example); installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$HOME/.local/bin:$PATH"
exec uv run --locked vizteh-bot "$@"
