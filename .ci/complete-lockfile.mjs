// The npm registry reachable here serves only Linux builds of platform packages, so `npm install` leaves
// the other platforms' optional binaries (@biomejs/cli-darwin-x64, @deno/win32-x64, …) out of
// package-lock.json, and `npm ci` then refuses the lockfile as out of sync. This adds those entries with
// their os/cpu constraints, which `npm ci` skips on Linux without fetching anything.
// Run after any `npm install` that rewrites the lockfile: node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const pkgs = lock.packages;
let added = 0;

function platformOf(name) {
  const n = name.toLowerCase();
  const os =
    ["android", "darwin", "win32", "freebsd", "openbsd", "netbsd", "sunos", "aix", "linux"].find((o) =>
      n.includes(o),
    ) ?? (n.includes("windows") ? "win32" : undefined);
  const cpu =
    ["arm64", "x64", "ia32", "arm", "ppc64", "s390x", "riscv64", "loong64", "mips64el"].find((c) =>
      n.includes(c),
    ) ?? (n.includes("-64") ? "x64" : undefined);
  const libc = n.includes("musl") ? "musl" : undefined;
  return { os: os === "windows" ? "win32" : os, cpu, libc };
}

for (const [where, entry] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const version = String(range).replace(/^[\^~=]/, "");
    const nested = `${where === "" ? "" : `${where}/`}node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (pkgs[nested] || pkgs[top]?.version === version) continue;
    const at = pkgs[top] ? nested : top;
    const { os, cpu, libc } = platformOf(dep);
    if (!os && !cpu) continue; // not a platform package: leave it for npm to resolve
    if (os === "linux" && !libc && (cpu === "x64" || cpu === undefined)) continue; // this machine's own kind
    pkgs[at] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
