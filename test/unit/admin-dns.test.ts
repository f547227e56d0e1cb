/** The DNS records generator, its zone file (read back by the zone parser) and the live check. */
import { describe, expect, it } from "vitest";
import { dkimRecordValue, generateDkimKey } from "../../src/admin/dkim-keys.ts";
import { checkRecords, expectedRecords, renderZone } from "../../src/admin/dns-records.ts";
import { domainSettings } from "../../src/admin/domain-settings.ts";
import { mailService } from "../../src/admin/mail-service.ts";
import { mtaStsPolicy } from "../../src/admin/mta-sts.ts";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";

const service = mailService({ hostname: "mx.host.test", publicUrl: "https://edge.host.test" });

async function records() {
  const key = await generateDkimKey("rsa-2048");
  const dkim = [
    {
      domain: "example.test",
      selector: "m1",
      algorithm: "rsa-2048" as const,
      active: true,
      createdAt: 0,
      retiredAt: null,
      name: "m1._domainkey.example.test",
      record: dkimRecordValue("rsa-2048", key.publicKey),
    },
  ];
  return expectedRecords("example.test", domainSettings({}), service, dkim);
}

describe("mxedge dns", () => {
  it("prints a zone file that parses back to exactly the expected records", async () => {
    const list = await records();
    expect(list.map((r) => `${r.type} ${r.name}`)).toEqual([
      "MX example.test",
      "TXT example.test",
      "TXT m1._domainkey.example.test",
      "TXT _dmarc.example.test",
      "TXT _mta-sts.example.test",
      "CNAME mta-sts.example.test",
      "TXT _smtp._tls.example.test",
      "SRV _submissions._tcp.example.test",
      "SRV _imaps._tcp.example.test",
      "CNAME autoconfig.example.test",
    ]);
    const zone = renderZone("example.test", list, service);
    // The long DKIM key is split into <= 255-byte character-strings.
    expect(zone).toMatch(/m1\._domainkey +3600 IN TXT +\( "v=DKIM1; k=rsa; p=[^"]{200,}"\n\s+"[^"]+" \)/);
    const results = await checkRecords(list, zoneResolver(parseZone(zone)));
    expect(results.map((r) => r.status)).toEqual(Array(list.length).fill("ok"));
  });

  it("reports a missing record and a different one", async () => {
    const list = await records();
    const zone = renderZone("example.test", list, service)
      .split("\n")
      .filter((l) => !l.startsWith("_dmarc"))
      .join("\n")
      .replace("0 1 993 mx.host.test.", "0 1 993 imap.elsewhere.test.");
    const results = await checkRecords(list, zoneResolver(parseZone(zone)));
    const bad = results.filter((r) => r.status !== "ok").map((r) => [r.purpose, r.status, r.found]);
    expect(bad).toEqual([
      ["DMARC", "missing", []],
      ["IMAP (RFC 6186)", "different", ["0 1 993 imap.elsewhere.test"]],
    ]);
  });

  it("points the web names at an edge named by address with A/AAAA records, not a CNAME", async () => {
    for (const [publicUrl, type, address] of [
      ["http://127.0.0.1:8787", "A", "127.0.0.1"],
      ["https://[2001:DB8::10]", "AAAA", "2001:db8::10"],
    ] as const) {
      const byIp = mailService({ hostname: "mx.host.test", publicUrl });
      const list = await expectedRecords("example.test", domainSettings({}), byIp, []);
      const web = list.filter((r) => r.name.startsWith("mta-sts.") || r.name.startsWith("autoconfig."));
      expect(web.map((r) => `${r.type} ${r.value}`)).toEqual([`${type} ${address}`, `${type} ${address}`]);
      const zone = renderZone("example.test", list, byIp);
      expect(zone).not.toMatch(/CNAME/);
      expect(zone).toMatch(new RegExp(`^mta-sts +3600 IN ${type} +${address.replace(/\./g, "\\.")}$`, "m"));
      const results = await checkRecords(list, zoneResolver(parseZone(zone)));
      expect(results.map((r) => r.status)).toEqual(Array(list.length).fill("ok"));
      const moved = zone.replace(new RegExp(`(mta-sts .*) ${address.replace(/\./g, "\\.")}`), "$1 192.0.2.1");
      const after = await checkRecords(list, zoneResolver(parseZone(moved)));
      expect(after.filter((r) => r.status !== "ok").map((r) => r.purpose)).toEqual(["MTA-STS policy host"]);
    }
  });

  it("treats other TXT records at the apex as unrelated, and a SERVFAIL as an error", async () => {
    const list = await records();
    const zone = `${renderZone("example.test", list, service)}\n@ TXT "google-site-verification=abc"\n_smtp._tls SERVFAIL\n`;
    const results = await checkRecords(list, zoneResolver(parseZone(zone)));
    expect(results.find((r) => r.purpose === "SPF")?.status).toBe("ok");
    expect(results.find((r) => r.purpose === "TLS-RPT")?.status).toBe("error");
  });
});

describe("MTA-STS policy", () => {
  it("names the mode, the MX host and max_age, with CRLF line ends", () => {
    expect(mtaStsPolicy(domainSettings({ mtaSts: { mode: "enforce" } }), service)).toBe(
      "version: STSv1\r\nmode: enforce\r\nmx: mx.host.test\r\nmax_age: 604800\r\n",
    );
    expect(mtaStsPolicy(domainSettings({ mtaSts: { mode: "none" } }), service)).not.toMatch(/^mx:/m);
  });
});
