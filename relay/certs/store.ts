/**
 * The certificates the relay serves, by SNI name. Every TLS handshake (implicit TLS, STARTTLS) asks this
 * store, so replacing an entry changes what the next handshake gets; sessions already open keep theirs.
 */
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";

export interface CertificatePem {
  cert: string;
  key: string;
}

export interface CertEntry {
  /** Where it came from: "files:<path>", "acme", "self-signed". */
  source: string;
  names: string[];
  notAfter: Date;
  context: SecureContext;
  pem: CertificatePem;
}

export interface CertSummary {
  source: string;
  names: string[];
  notAfter: string;
  expired: boolean;
}

/** Parses and checks a pair (the key must match the certificate); throws with a readable reason. */
export function makeEntry(source: string, pem: CertificatePem): CertEntry {
  const x509 = new X509Certificate(pem.cert);
  // createSecureContext refuses a key that does not belong to the certificate.
  const context = createSecureContext({ cert: pem.cert, key: pem.key, minVersion: "TLSv1.2" });
  const names = (x509.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((n) => n.startsWith("DNS:"))
    .map((n) => n.slice(4).toLowerCase());
  const cn = /CN=([^\n,]+)/.exec(x509.subject)?.[1];
  if (names.length === 0 && cn) names.push(cn.toLowerCase());
  return { source, names, notAfter: new Date(x509.validTo), context, pem };
}

function matches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (!pattern.startsWith("*.")) return false;
  const dot = name.indexOf(".");
  return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
}

export class CertStore {
  /** In order of preference: the first entry is served when SNI names nothing we have. */
  #entries: CertEntry[] = [];
  #problems = new Map<string, string>();

  /** Adds or replaces the entry from `source`; `first` puts a new one in front (the default). */
  set(entry: CertEntry, first = false): void {
    const i = this.#entries.findIndex((e) => e.source === entry.source);
    if (i >= 0 && !first) this.#entries[i] = entry;
    else if (first) this.#entries = [entry, ...this.#entries.filter((e) => e.source !== entry.source)];
    else this.#entries.push(entry);
  }

  remove(source: string): void {
    this.#entries = this.#entries.filter((e) => e.source !== source);
  }

  get(source: string): CertEntry | undefined {
    return this.#entries.find((e) => e.source === source);
  }

  /** A problem with one source (a failed reload or renewal); cleared with null. */
  problem(source: string, message: string | null): void {
    if (message === null) this.#problems.delete(source);
    else this.#problems.set(source, message);
  }

  problems(now = Date.now()): string[] {
    const out = [...this.#problems].map(([s, m]) => `${s}: ${m}`);
    for (const e of this.#entries) {
      if (e.notAfter.getTime() <= now)
        out.push(`${e.source}: certificate for ${e.names.join(", ")} has expired`);
    }
    return out;
  }

  /** True when at least one certificate is still valid: the listeners can serve TLS. */
  hasValid(now = Date.now()): boolean {
    return this.#entries.some((e) => e.notAfter.getTime() > now);
  }

  summary(now = Date.now()): CertSummary[] {
    return this.#entries.map((e) => ({
      source: e.source,
      names: e.names,
      notAfter: e.notAfter.toISOString(),
      expired: e.notAfter.getTime() <= now,
    }));
  }

  defaultContext(): SecureContext {
    const valid = this.#entries.find((e) => e.notAfter.getTime() > Date.now()) ?? this.#entries[0];
    if (!valid) throw new Error("no TLS certificate loaded");
    return valid.context;
  }

  /** The PEM pair of the default certificate (for libraries that want PEM, not a context). */
  defaultPem(): CertificatePem {
    const valid = this.#entries.find((e) => e.notAfter.getTime() > Date.now()) ?? this.#entries[0];
    if (!valid) throw new Error("no TLS certificate loaded");
    return valid.pem;
  }

  contextFor(servername: string | undefined): SecureContext {
    const name = (servername ?? "").toLowerCase().replace(/\.$/, "");
    if (name) {
      const now = Date.now();
      const hit =
        this.#entries.find((e) => e.notAfter.getTime() > now && e.names.some((n) => matches(n, name))) ??
        this.#entries.find((e) => e.names.some((n) => matches(n, name)));
      if (hit) return hit.context;
    }
    return this.defaultContext();
  }

  /** For tls options' SNICallback. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    try {
      cb(null, this.contextFor(servername));
    } catch (err) {
      cb(err as Error);
    }
  };
}
