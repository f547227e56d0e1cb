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
    // Under CI a JSON report too, from which .ci/run prints the closing "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".vitest-results.json" }]] : ["default"],
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
            // The Worker under test is the bundle wrangler deploys (esbuild + Cloudflare's node polyfills),
            // so the test runs exactly that code; mailauth's CommonJS dependencies need that bundling.
            const outdir = new URL("../.wrangler/test-bundle", import.meta.url).pathname;
            const { execFileSync } = await import("node:child_process");
            execFileSync(
              new URL("../node_modules/.bin/wrangler", import.meta.url).pathname,
              ["deploy", "--dry-run", "--outdir", outdir],
              {
                cwd: new URL("..", import.meta.url).pathname,
                stdio: "ignore",
                env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
              },
            );
            // The same python3-dkim corpus the Node tests use, so both runtimes judge the same bytes.
            const { buildCorpus, dkimCorpusAvailable } = await import("./support/dkim-corpus.ts");
            const { PARITY_RULES } = await import("./shared/pipeline-suite.ts");
            const corpus = dkimCorpusAvailable() ? buildCorpus() : null;
            return {
              main: `${outdir}/worker.js`,
              wrangler: { configPath: new URL("../wrangler.toml", import.meta.url).pathname },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  RELAY_SECRET: "test-relay-secret",
                  ADMIN_TOKEN: "test-admin-token",
                  DKIM_KEY: "test-dkim-key-encryption-secret",
                  // DNS from a static zone (the signed corpus' keys and policies): no test uses the network.
                  DNS_ZONE: corpus?.zone ?? "; empty zone: every lookup is NXDOMAIN",
                  RULES: JSON.stringify(PARITY_RULES),
                  TEST_CORPUS: corpus
                    ? JSON.stringify(corpus.messages, (_k, v) =>
                        v instanceof Uint8Array ? Array.from(v) : v,
                      )
                    : "",
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
