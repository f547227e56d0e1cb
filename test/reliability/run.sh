#!/usr/bin/env bash
# npm run test:reliability: raises the open-files limit (5,000 idle IMAP connections need ~10,000
# descriptors between client and server), then runs the suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
want=20000
hard=$(ulimit -Hn)
if [ "$hard" != "unlimited" ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want"
if [ "$(ulimit -n)" -lt 12000 ]; then
  echo "test:reliability needs at least 12000 open files (ulimit -n); the hard limit here is $hard" >&2
  exit 1
fi
exec node test/reliability/run.ts "$@"
