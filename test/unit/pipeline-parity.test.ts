/** The shared pipeline suite on Node: the edge's Hono app over node:sqlite, DNS from the corpus zone. */
import { createEdgeApp } from "../../edge/app.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import { compilePolicy } from "../../src/rules/index.ts";
import { createStore } from "../../src/store/index.ts";
import { PARITY_RULES, pipelineSuite } from "../shared/pipeline-suite.ts";
import { buildCorpus, dkimCorpusAvailable } from "../support/dkim-corpus.ts";

if (dkimCorpusAvailable()) {
  const corpus = buildCorpus();
  const handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  const app = createEdgeApp({
    store: createStore(handle.driver),
    relaySecret: "test-relay-secret",
    adminToken: "test-admin-token",
    hostname: "mx.suite.test",
    auth: { resolver: zoneResolver(parseZone(corpus.zone)), onTempError: "accept", enforceDmarc: true },
    policy: compilePolicy({ rules: PARITY_RULES, dnsbl: [] }),
  });
  pipelineSuite("node + node:sqlite", () => ({
    fetch: async (req) => app.fetch(req),
    corpus: corpus.messages,
  }));
}
