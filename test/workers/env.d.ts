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
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
