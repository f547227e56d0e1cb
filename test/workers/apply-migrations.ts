import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// The same migrations/*.sql that `wrangler d1 migrations apply DB --local` applies.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
