#!/usr/bin/env bash
# Fails when src/store/schema.ts and migrations/ have drifted apart: drizzle-kit must find nothing to generate.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(git status --porcelain -- migrations)
npx drizzle-kit generate --config migrations/drizzle.config.ts >/tmp/mxedge-drizzle.log 2>&1 || { cat /tmp/mxedge-drizzle.log; exit 1; }
after=$(git status --porcelain -- migrations)
if [ "$before" != "$after" ]; then
  echo "schema drift: src/store/schema.ts changed without a migration. Run 'npm run db:generate' and commit migrations/." >&2
  git status --porcelain -- migrations >&2
  exit 1
fi
echo "migrations match the schema"
