/**
 * DNS-01 through Cloudflare's DNS records API (v4): finds the zone of a name, creates the
 * `_acme-challenge` TXT record and deletes it afterwards. Needs an API token with Zone:DNS:Edit
 * (and Zone:Read unless `zoneId` is configured).
 */
export interface CloudflareOptions {
  apiUrl: string;
  token: string;
  zoneId?: string;
  fetch?: typeof fetch;
}

interface Envelope<T> {
  success: boolean;
  errors?: Array<{ code?: number; message?: string }>;
  result: T;
}

export class CloudflareDns {
  readonly #opts: CloudflareOptions;
  constructor(opts: CloudflareOptions) {
    this.#opts = opts;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const f = this.#opts.fetch ?? fetch;
    const res = await f(`${this.#opts.apiUrl.replace(/\/$/, "")}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#opts.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json = (await res.json().catch(() => null)) as Envelope<T> | null;
    if (!res.ok || !json?.success) {
      const why = json?.errors?.map((e) => `${e.code ?? ""} ${e.message ?? ""}`.trim()).join("; ");
      throw new Error(`cloudflare ${method} ${path}: HTTP ${res.status}${why ? ` (${why})` : ""}`);
    }
    return json.result;
  }

  /** The zone holding `name`: the configured one, or the longest zone name that is a suffix of it. */
  async zoneFor(name: string): Promise<string> {
    if (this.#opts.zoneId) return this.#opts.zoneId;
    const labels = name.replace(/\.$/, "").split(".");
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join(".");
      const zones = await this.#call<Array<{ id: string; name: string }>>(
        "GET",
        `/zones?name=${encodeURIComponent(candidate)}`,
      );
      const hit = zones.find((z) => z.name === candidate);
      if (hit) return hit.id;
    }
    throw new Error(`cloudflare: no zone found for ${name} (is the domain on this account?)`);
  }

  /** Creates the TXT record; returns what deleteTxt needs. */
  async createTxt(name: string, content: string): Promise<{ zoneId: string; id: string }> {
    const zoneId = await this.zoneFor(name);
    const record = await this.#call<{ id: string }>("POST", `/zones/${zoneId}/dns_records`, {
      type: "TXT",
      name,
      content,
      ttl: 60,
    });
    return { zoneId, id: record.id };
  }

  async deleteTxt(ref: { zoneId: string; id: string }): Promise<void> {
    await this.#call("DELETE", `/zones/${ref.zoneId}/dns_records/${ref.id}`);
  }
}
