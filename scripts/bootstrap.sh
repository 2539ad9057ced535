#!/usr/bin/env bash
# Installs what a fresh machine lacks: uv and the locked Python packages; with --test also
# a PostgreSQL server from Debian's packages (the tests start their own throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_servers=false
[[ "${1:-}" == "--test" ]] && want_test_servers=true

say() { printf 'bootstrap: %s\n' "$*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  say "installing uv from PyPI"
  # A pyenv or venv Python takes it directly; Debian's own Python needs a venv of its own
  # (it refuses `pip install` into the system, and ships pip and venv separately).
  if ! python3 -m pip install --quiet --user uv 2>/dev/null \
    && ! python3 -m pip install --quiet uv 2>/dev/null; then
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    python3 -m venv "$HOME/.local/share/vizteh-uv"
    "$HOME/.local/share/vizteh-uv/bin/pip" install --quiet uv
    mkdir -p "$HOME/.local/bin"
    ln -sf "$HOME/.local/share/vizteh-uv/bin/uv" "$HOME/.local/bin/uv"
  fi
  hash -r
fi

if $want_test_servers; then
  missing=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} from Debian's packages"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi

uv sync --locked --quiet
