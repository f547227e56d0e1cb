/** The shared pipeline suite on workerd + D1, through the bundle wrangler deploys. */
import { env, exports } from "cloudflare:workers";
import { pipelineSuite } from "../shared/pipeline-suite.ts";

if (env.TEST_CORPUS !== "") {
  const corpus = Object.fromEntries(
    Object.entries(JSON.parse(env.TEST_CORPUS) as Record<string, number[]>).map(([k, v]) => [
      k,
      Uint8Array.from(v),
    ]),
  );
  pipelineSuite("workerd + D1", () => ({ fetch: (req) => exports.default.fetch(req), corpus }));
}
