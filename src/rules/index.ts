import type { PolicyConfig } from "../pipeline/policy-stage.ts";
import { parseDnsbl } from "./dnsbl.ts";
import { compileRules } from "./engine.ts";
import type { DnsblConfig, RuleConfig } from "./schema.ts";

/** Rules and DNSBL lists from the config, checked and compiled once; throws with the offending entry. */
export function compilePolicy(cfg: { rules: RuleConfig[]; dnsbl: DnsblConfig[] }): PolicyConfig {
  return {
    rules: compileRules(cfg.rules),
    dnsbl: cfg.dnsbl.map((d, i) => {
      try {
        return parseDnsbl(d);
      } catch (err) {
        throw new Error(`dnsbl.${i}: ${(err as Error).message}`);
      }
    }),
  };
}
