/**
 * The tests' own tool checks: on a developer machine a missing tool or Python module skips the tests that
 * need it, with the install hint; under CI=true it fails the run.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { requirePythonModules, requireTools } from "../e2e/tools.ts";

const ci = process.env.CI;
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
  vi.restoreAllMocks();
});

describe.runIf(requireTools("python3"))("requirePythonModules", () => {
  it("is true when every module imports", () => {
    expect(requirePythonModules(["json", "email"], "none needed")).toBe(true);
  });

  it("skips with the hint on a developer machine, and fails under CI", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    delete process.env.CI;
    expect(requirePythonModules(["json", "mxedge_no_such_module"], "apt-get install python3-x")).toBe(false);
    expect(warn).toHaveBeenCalledWith(
      "skipping: python3 module(s) mxedge_no_such_module not installed (apt-get install python3-x)",
    );
    process.env.CI = "true";
    expect(() => requirePythonModules(["mxedge_no_such_module"], "apt-get install python3-x")).toThrow(
      /missing required python3 module\(s\) mxedge_no_such_module under CI \(apt-get install python3-x\)/,
    );
  });
});
