/** The uPlot the edge serves is the installed package's own build (regenerate: node .ci/vendor-uplot.ts). */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { vendoredUplot } from "../../.ci/vendor-uplot.ts";

it("serves the installed uPlot, byte for byte", () => {
  const committed = readFileSync(new URL("../../edge/dashboard/assets/uplot.ts", import.meta.url), "utf8");
  expect(
    committed === vendoredUplot(),
    "edge/dashboard/assets/uplot.ts is stale: run node .ci/vendor-uplot.ts",
  ).toBe(true);
});
