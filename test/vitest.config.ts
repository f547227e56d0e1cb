import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Three projects:
 *  - unit:    runtime-neutral core and relay pieces, in Node
 *  - e2e:     the real `mxedge` process driven by real clients (python smtplib, swaks, haproxy, deno)
 *  - workers: the edge inside workerd with a local D1 (@cloudflare/vitest-plugin, the successor of
 *             @cloudflare/vitest-pool-workers)
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          root: "test/unit",
          include: ["**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "e2e",
          root: "test/e2e",
          include: ["**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        plugins: [
          cloudflareTest(async () => {
            const { readD1Migrations } = await import("@cloudflare/vitest-plugin");
            const migrations = await readD1Migrations(new URL("../migrations", import.meta.url).pathname);
            return {
              main: new URL("../edge/worker.ts", import.meta.url).pathname,
              wrangler: { configPath: new URL("../wrangler.toml", import.meta.url).pathname },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  RELAY_SECRET: "test-relay-secret",
                  ADMIN_TOKEN: "test-admin-token",
                },
              },
            };
          }),
        ],
        test: {
          name: "workers",
          root: "test/workers",
          include: ["**/*.test.ts"],
          setupFiles: ["./apply-migrations.ts"],
        },
      },
    ],
  },
});
