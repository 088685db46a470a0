#!/usr/bin/env bash
# Prints the path of a Python 3.11 interpreter, the version the Docker image runs and the lock
# is tested with: $PYTHON when set, else python3.11, else python3 when it is 3.11. A newer
# python3 (3.12, 3.13...) is not taken silently: the C extensions and wheels in uv.lock are
# checked on 3.11 only.
set -euo pipefail

is_311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

if [[ -n "${PYTHON:-}" ]]; then
    candidates=("$PYTHON")
else
    candidates=(python3.11 python3)
fi
for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 && is_311 "$candidate"; then
        command -v "$candidate"
        exit 0
    fi
done
found="$(command -v python3 >/dev/null 2>&1 && python3 -V 2>&1 || echo 'no python3')"
printf '\033[31mError: Python 3.11 is needed, found: %s (tried: %s).\033[0m\n' \
    "$found" "${candidates[*]}" >&2
printf 'Install it (Debian/Ubuntu: apt-get install python3.11 python3.11-venv; pyenv install 3.11; macOS: brew install python@3.11) or name it: make install PYTHON=/path/to/python3.11\n' >&2
exit 1
