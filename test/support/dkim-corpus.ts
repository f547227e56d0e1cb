/**
 * A signed test corpus made by an independent signer (Debian's python3-dkim: dknewkey, dkimsign, arcsign),
 * with the public keys published in a static zone that the pipeline's zone resolver serves.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePythonModules, requireTools } from "../e2e/tools.ts";

export const DKIM_TOOLS = ["dknewkey", "dkimsign", "arcsign"];

/**
 * Whether the corpus can be built here: the python3-dkim commands, and the modules its scripts import
 * (dkim; nacl for Ed25519 keys; authres for ARC) in Debian's Python, which runs them. Under CI a missing one fails the run; elsewhere the
 * tests that need the corpus skip with the install hint.
 */
export function dkimCorpusAvailable(...moreTools: string[]): boolean {
  return (
    requireTools(...moreTools, ...DKIM_TOOLS) &&
    requirePythonModules(
      ["dkim", "nacl", "authres"],
      "apt-get install python3-dkim python3-nacl python3-authres",
      DEBIAN_PYTHON,
    )
  );
}

/** The interpreter of Debian's python3-dkim commands, whatever `python3` is first on PATH. */
const DEBIAN_PYTHON = "/usr/bin/python3";

const ARC_SIGN = `import sys, dkim
msg = sys.stdin.buffer.read()
key = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(b"".join(dkim.arc_sign(msg, b"arc1", b"fwd.test", key, b"fwd.test")))`;

export interface Corpus {
  zone: string;
  messages: Record<string, Uint8Array>;
}

const BASE = (from: string, subject: string) =>
  `From: Alice <${from}>\r\nTo: bob@example.test\r\nSubject: ${subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W+/g, ".")}@corpus.test>\r\n\r\nHello from the corpus.\r\nSecond line.\r\n`;

/** TXT rdata split into ≤ 200-byte quoted strings, as a zone file needs for long DKIM keys. */
function txt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 200) parts.push(`"${value.slice(i, i + 200)}"`);
  return parts.join(" ");
}

export function buildCorpus(): Corpus {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-dkim-"));
  const sh = (cmd: string, args: string[], input?: string): string =>
    execFileSync(cmd, args, { cwd: dir, input, encoding: "latin1", stdio: ["pipe", "pipe", "ignore"] });
  sh("dknewkey", ["rsa1"]);
  sh("dknewkey", ["--ktype", "ed25519", "ed1"]);
  sh("dknewkey", ["other"]); // signs with a key whose public half is not the one in DNS
  sh("dknewkey", ["arc1"]);
  const pub = (name: string) => readFileSync(join(dir, `${name}.dns`), "utf8").trim();
  const sign = (msg: string, selector: string, domain: string, key: string, alg = "rsa-sha256") =>
    sh("dkimsign", ["--signalg", alg, selector, domain, join(dir, `${key}.key`)], msg);

  const rsa = sign(BASE("alice@signed.test", "rsa pass"), "sel1", "signed.test", "rsa1");
  const ed = sign(BASE("alice@signed.test", "ed25519 pass"), "sel2", "signed.test", "ed1", "ed25519-sha256");
  const bodyModified = `${sign(BASE("alice@signed.test", "body modified"), "sel1", "signed.test", "rsa1")}Appended by a mailing list.\r\n`;
  const headerModified = sign(
    BASE("alice@signed.test", "header modified"),
    "sel1",
    "signed.test",
    "rsa1",
  ).replace("Subject: header modified", "Subject: [list] header modified");
  const oneBad = sign(
    sign(BASE("alice@signed.test", "two signatures"), "sel1", "signed.test", "rsa1"),
    "sel3",
    "signed.test",
    "other",
  );
  const aligned = sign(BASE("alice@news.aligned.test", "relaxed alignment"), "sel1", "aligned.test", "rsa1");
  const strict = sign(BASE("alice@news.strict.test", "strict alignment"), "sel1", "strict.test", "rsa1");

  // A forward through fwd.test: the list footer breaks the DKIM body hash, the ARC seal vouches for it.
  const forwarded = `${sign(BASE("alice@signed.test", "arc forward"), "sel1", "signed.test", "rsa1")}forwarded by fwd.test\r\n`;
  const withAr = `Authentication-Results: fwd.test; dkim=pass header.d=signed.test; spf=pass smtp.mailfrom=alice@signed.test; dmarc=pass header.from=signed.test\r\n${forwarded}`;
  // dkimpy's API on raw bytes (its arcsign CLI reads stdin as text and hashes LF-only line ends).
  const arcHeaders = sh(DEBIAN_PYTHON, ["-c", ARC_SIGN, join(dir, "arc1.key")], withAr).replace(
    /\r?\n/g,
    "\r\n",
  );
  const arcSealed = `${arcHeaders.trimEnd()}\r\n${withAr}`;

  const includes = Array.from({ length: 11 }, (_, i) => `include:i${i}.many.test`).join(" ");
  const zone = `
$ORIGIN test.
signed              TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.signed       TXT "v=DMARC1; p=reject"
sel1._domainkey.signed TXT ${txt(pub("rsa1"))}
sel2._domainkey.signed TXT ${txt(pub("ed1"))}
sel3._domainkey.signed TXT ${txt(pub("rsa1"))}
arc1._domainkey.fwd TXT ${txt(pub("arc1"))}
sel1._domainkey.aligned TXT ${txt(pub("rsa1"))}
_dmarc.aligned      TXT "v=DMARC1; p=reject; adkim=r"
sel1._domainkey.strict TXT ${txt(pub("rsa1"))}
_dmarc.strict       TXT "v=DMARC1; p=reject; adkim=s"
spf-fail            TXT "v=spf1 ip4:198.51.100.0/24 -all"
spf-softfail        TXT "v=spf1 ip4:198.51.100.0/24 ~all"
spf-neutral         TXT "v=spf1 ?all"
many                TXT "v=spf1 ${includes} -all"
${Array.from({ length: 11 }, (_, i) => `i${i}.many TXT "v=spf1 ip4:203.0.113.${i}/32 -all"`).join("\n")}
loop                TXT "v=spf1 include:loop.test -all"
tmp                 SERVFAIL
_dmarc.tmpdmarc     SERVFAIL
tmpdmarc            TXT "v=spf1 -all"
quarantine          TXT "v=spf1 -all"
_dmarc.quarantine   TXT "v=DMARC1; p=quarantine"
none                TXT "v=spf1 -all"
_dmarc.none         TXT "v=DMARC1; p=none"
_dmarc.parent       TXT "v=DMARC1; p=none; sp=reject"
sub.parent          TXT "v=spf1 -all"
`;
  writeFileSync(join(dir, "corpus.zone"), zone);
  const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  return {
    zone,
    messages: {
      rsa: bytes(rsa),
      ed25519: bytes(ed),
      bodyModified: bytes(bodyModified),
      headerModified: bytes(headerModified),
      oneBad: bytes(oneBad),
      aligned: bytes(aligned),
      strict: bytes(strict),
      arcSealed: bytes(arcSealed),
    },
  };
}

export function plainMessage(from: string, subject: string): Uint8Array {
  return Uint8Array.from(BASE(from, subject), (c) => c.charCodeAt(0));
}
