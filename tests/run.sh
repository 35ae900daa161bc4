#!/usr/bin/env bash
# Install relsim with its test extra into .venv and run the whole test suite on every supported
# Python: nox (noxfile.py) runs it on 3.11 (Mesa 3.3) and on 3.12 (Mesa 3.5), each in its own
# virtual environment under .nox/. Arguments go to pytest, on both Pythons:
#   bash tests/run.sh tests/test_cli.py -x
# One Python only: .venv/bin/nox -s tests-3.12 -- tests/test_cli.py
# On a machine without Chromium it installs Debian's package when it can (root), because the
# dashboard's browser tests drive a real Chromium. In CI (CI=true) nothing may be skipped, and a
# missing Python fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif [ "${CI:-}" = "true" ]; then
    echo "chromium is missing and cannot be installed (not root): the browser tests need it" >&2
    exit 1
  else
    echo "note: chromium is not installed; the browser tests will be skipped on this machine" >&2
  fi
fi

export MPLBACKEND=Agg
exec .venv/bin/nox --sessions tests -- "$@"
