#!/bin/sh
# Runs the Procfile's process NAME (web, ws, worker, beat, release) in place of this shell, so
# that a container, like honcho and the load harness, takes every command from the Procfile.
#   scripts/procfile.sh web
set -eu
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/procfile.sh NAME (a process of the Procfile)}"
command="$(sed -n "s/^${name}:[[:space:]]*//p" Procfile)"
if [ -z "$command" ]; then
    echo "Error: the Procfile has no process named '$name'." >&2
    exit 1
fi
exec sh -c "exec $command"
