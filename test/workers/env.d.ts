import type { D1Migration } from "@cloudflare/vitest-plugin";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../../edge/worker.ts");
    }
    interface Env {
      DB: D1Database;
      RELAY_SECRET: string;
      ADMIN_TOKEN: string;
      DKIM_KEY: string;
      TEST_MIGRATIONS: D1Migration[];
      DNS_ZONE: string;
      RULES: string;
      /** JSON of the signed corpus (name → byte array), or "" when python3-dkim is not installed. */
      TEST_CORPUS: string;
    }
  }
}
