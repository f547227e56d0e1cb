/**
 * The admin commands. Each one is a call to the admin API and a rendering of its answer: the JSON as
 * the API returned it (`--json`), or lines for a person. Embedded and remote use exactly this code.
 */
import { newWebhookSecret } from "../../src/webhooks/sign.ts";
import { messageText } from "./message-text.ts";
import type { AdminTransport, ApiResponse } from "./transport.ts";

export class CommandUsageError extends Error {}

/** A refusal from the API (4xx/5xx), already phrased for a person: one line per problem. */
export class ApiError extends Error {
  readonly lines: string[];
  constructor(lines: string[]) {
    super(lines.join("\n"));
    this.lines = lines;
  }
}

export interface CommandOptions {
  json: boolean;
  values: Record<string, string | boolean | undefined>;
  /** Reads standard input (passwords) or a file (imports). */
  readStdin(): string;
  readFile(path: string): string;
}

export interface CommandOutput {
  /** Text for stdout (with trailing newline), or raw bytes (messages raw). */
  stdout: string | Uint8Array;
  /** Problems found along the way (import lines refused), each line prefixed by the CLI. */
  stderr?: string[];
  /** Exit status: 0, or 1 when the command ran but found problems (dns check, import). */
  code: number;
}

function errorLines(res: ApiResponse): string[] {
  if (res.status === 401) return ["unauthorized: wrong or missing admin token"];
  const body = res.json as { error?: string; issues?: Array<{ path: string; message: string }> } | null;
  if (body?.issues && body.issues.length > 0) return body.issues.map((i) => `${i.path}: ${i.message}`);
  if (body?.error) return [body.error];
  return [`the edge answered HTTP ${res.status}`];
}

async function call(api: AdminTransport, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const res = await api(method, path, body);
  if (res.status >= 400) throw new ApiError(errorLines(res));
  return res;
}

const enc = encodeURIComponent;
const lines = (xs: string[], empty: string) => `${xs.length > 0 ? xs.join("\n") : empty}\n`;
const jsonOut = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const date = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().slice(0, 10) : "-");

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function need(value: string | undefined, usage: string): string {
  if (!value) throw new CommandUsageError(`usage: mxedge ${usage}`);
  return value;
}

function password(opts: CommandOptions, command: string): string {
  if (!opts.values["password-stdin"])
    throw new CommandUsageError(
      `${command} needs --password-stdin (the password is read from standard input)`,
    );
  return opts.readStdin().replace(/\r?\n$/, "");
}

function onOff(value: string | undefined, usage: string): boolean {
  if (value === "on" || value === "true") return true;
  if (value === "off" || value === "false") return false;
  throw new CommandUsageError(`usage: mxedge ${usage}`);
}

type Handler = (api: AdminTransport, args: string[], opts: CommandOptions) => Promise<CommandOutput>;

const ok = (stdout: string | Uint8Array): CommandOutput => ({ stdout, code: 0 });

interface DomainJson {
  name: string;
  plusAddressing: boolean;
  settings?: {
    mtaSts: { mode: string; maxAge: number };
    dmarc: { policy: string; rua?: string };
    tlsRpt: { rua?: string };
  };
}

function domainText(d: DomainJson): string {
  const s = d.settings;
  const out = [`${d.name}`, `  plus-addressing  ${d.plusAddressing ? "on" : "off"}`];
  if (s) {
    out.push(`  mta-sts          ${s.mtaSts.mode} (max_age ${s.mtaSts.maxAge})`);
    out.push(`  dmarc            p=${s.dmarc.policy} rua=${s.dmarc.rua ?? `mailto:postmaster@${d.name}`}`);
    out.push(`  tls-rpt          rua=${s.tlsRpt.rua ?? `mailto:postmaster@${d.name}`}`);
  }
  return `${out.join("\n")}\n`;
}

interface DkimJson {
  selector: string;
  algorithm: string;
  active: boolean;
  createdAt: number;
  retiredAt: number | null;
  name: string;
  record: string;
}

const COMMANDS: Record<string, Handler> = {
  async "domain add"(api, [name], o) {
    const res = await call(api, "POST", "/api/domains", { name: need(name, "domain add <domain>") });
    const d = res.json as { name: string };
    return ok(
      o.json
        ? jsonOut(d)
        : `added domain ${d.name}\nnext: mxedge dkim generate ${d.name}, then mxedge dns ${d.name}\n`,
    );
  },
  async "domain list"(api, _a, o) {
    const { domains } = (await call(api, "GET", "/api/domains")).json as { domains: DomainJson[] };
    if (o.json) return ok(jsonOut(domains));
    return ok(
      lines(
        table(domains.map((d) => [d.name, d.plusAddressing ? "plus-addressing" : "no-plus-addressing"])),
        "(no domains)",
      ),
    );
  },
  async "domain show"(api, [name], o) {
    const d = (await call(api, "GET", `/api/domains/${enc(need(name, "domain show <domain>"))}`))
      .json as DomainJson;
    return ok(o.json ? jsonOut(d) : domainText(d));
  },
  async "domain set"(api, [name], o) {
    const usage =
      "domain set <domain> [--plus-addressing on|off] [--mta-sts enforce|testing|none] [--dmarc-policy none|quarantine|reject] [--dmarc-rua mailto:…] [--tls-rpt-rua mailto:…]";
    const v = o.values;
    const body: Record<string, unknown> = {};
    if (v["plus-addressing"] !== undefined) body.plusAddressing = onOff(String(v["plus-addressing"]), usage);
    if (v["mta-sts"] !== undefined) body.mtaSts = { mode: v["mta-sts"] };
    if (v["dmarc-policy"] !== undefined || v["dmarc-rua"] !== undefined)
      body.dmarc = { policy: v["dmarc-policy"], rua: v["dmarc-rua"] };
    if (v["tls-rpt-rua"] !== undefined) body.tlsRpt = { rua: v["tls-rpt-rua"] };
    if (Object.keys(body).length === 0) throw new CommandUsageError(`usage: mxedge ${usage}`);
    const d = (await call(api, "PATCH", `/api/domains/${enc(need(name, usage))}`, body)).json as DomainJson;
    return ok(o.json ? jsonOut(d) : domainText(d));
  },
  async "domain rm"(api, [name], o) {
    const res = await call(api, "DELETE", `/api/domains/${enc(need(name, "domain rm <domain>"))}`);
    return ok(o.json ? jsonOut(res.json) : `removed domain ${(res.json as { name: string }).name}\n`);
  },

  async "user add"(api, [address], o) {
    need(address, "user add <address> --password-stdin");
    const res = await call(api, "POST", "/api/users", { address, password: password(o, "user add") });
    const u = res.json as { login: string };
    return ok(
      o.json ? jsonOut(u) : `added user ${u.login} with mailboxes INBOX, Drafts, Sent, Junk, Trash\n`,
    );
  },
  async "user passwd"(api, [address], o) {
    need(address, "user passwd <address> --password-stdin");
    const res = await call(api, "PUT", `/api/users/${enc(address as string)}/password`, {
      password: password(o, "user passwd"),
    });
    return ok(
      o.json ? jsonOut(res.json) : `changed the password of ${(res.json as { login: string }).login}\n`,
    );
  },
  async "user rm"(api, [address], o) {
    const res = await call(api, "DELETE", `/api/users/${enc(need(address, "user rm <address>"))}`);
    return ok(
      o.json ? jsonOut(res.json) : `removed user ${(res.json as { login: string }).login} and their mail\n`,
    );
  },
  async "user list"(api, _a, o) {
    const { users } = (await call(api, "GET", "/api/users")).json as {
      users: Array<{ login: string; disabled: boolean }>;
    };
    if (o.json) return ok(jsonOut(users));
    return ok(
      lines(
        users.map((u) => `${u.login}${u.disabled ? " (disabled)" : ""}`),
        "(no users)",
      ),
    );
  },
  async "user import"(api, [format, file], o) {
    const usage = "user import dovecot-passwd <file>";
    if (format !== "dovecot-passwd") throw new CommandUsageError(`usage: mxedge ${usage}`);
    const text = o.readFile(need(file, usage));
    const r = (await call(api, "POST", "/api/users/import", { format, text })).json as {
      imported: Array<{ line: number; login: string }>;
      errors: Array<{ line: number; message: string }>;
    };
    const code = r.errors.length > 0 ? 1 : 0;
    if (o.json) return { stdout: jsonOut(r), code };
    const out = r.imported.map((u) => `line ${u.line}: imported ${u.login}`);
    out.push(`${r.imported.length} imported, ${r.errors.length} refused`);
    return {
      stdout: `${out.join("\n")}\n`,
      stderr: r.errors.map((e) => `line ${e.line}: ${e.message}`),
      code,
    };
  },

  async "alias add"(api, [address, ...targets], o) {
    need(address, "alias add <address> <target…>   (or: alias add <address> discard)");
    if (targets.length === 0)
      throw new CommandUsageError(
        "usage: mxedge alias add <address> <target…>   (or: alias add <address> discard)",
      );
    const body = { address, targets: targets.length === 1 && targets[0] === "discard" ? "discard" : targets };
    const a = (await call(api, "POST", "/api/aliases", body)).json as { address: string };
    return ok(o.json ? jsonOut(a) : `added alias ${a.address} → ${targets.join(", ")}\n`);
  },
  async "alias rm"(api, [address], o) {
    const res = await call(api, "DELETE", `/api/aliases/${enc(need(address, "alias rm <address>"))}`);
    return ok(o.json ? jsonOut(res.json) : `removed alias ${(res.json as { address: string }).address}\n`);
  },
  async "alias list"(api, [domain], o) {
    const q = domain ? `?domain=${enc(domain)}` : "";
    const { aliases } = (await call(api, "GET", `/api/aliases${q}`)).json as {
      aliases: Array<{ address: string; kind: string; targets: string[] }>;
    };
    if (o.json) return ok(jsonOut(aliases));
    return ok(
      lines(
        table(
          aliases.map((a) => [a.address, a.kind === "discard" ? "discard" : `→ ${a.targets.join(", ")}`]),
        ),
        "(no aliases)",
      ),
    );
  },
  async "alias plus-addressing"(api, [domain, state], o) {
    const usage = "alias plus-addressing <domain> on|off";
    const on = onOff(state, usage);
    const d = (await call(api, "PATCH", `/api/domains/${enc(need(domain, usage))}`, { plusAddressing: on }))
      .json as DomainJson;
    return ok(o.json ? jsonOut(d) : `plus-addressing ${d.plusAddressing ? "on" : "off"} for ${d.name}\n`);
  },

  async "dkim generate"(api, [domain], o) {
    const body = { algorithm: o.values.algo, selector: o.values.selector };
    const k = (
      await call(
        api,
        "POST",
        `/api/domains/${enc(need(domain, "dkim generate <domain> [--selector s] [--algo rsa-2048|ed25519]"))}/dkim`,
        body,
      )
    ).json as DkimJson;
    if (o.json) return ok(jsonOut(k));
    return ok(
      `generated ${k.algorithm} DKIM key ${k.selector} for ${domain}\npublish: ${k.name} TXT "${k.record}"\n(all records: mxedge dns ${domain})\n`,
    );
  },
  async "dkim rotate"(api, [domain], o) {
    const body = { algorithm: o.values.algo, selector: o.values.selector };
    const usage = "dkim rotate <domain> [--algo rsa-2048|ed25519] [--selector s]";
    const r = (await call(api, "POST", `/api/domains/${enc(need(domain, usage))}/dkim/rotate`, body))
      .json as {
      keys: DkimJson[];
      retired: string[];
    };
    if (o.json) return ok(jsonOut(r));
    const out = r.keys.map(
      (k) => `new ${k.algorithm} DKIM key ${k.selector} for ${domain}\npublish: ${k.name} TXT "${k.record}"`,
    );
    out.push(
      `retired ${r.retired.join(", ")}: keep them published until mail signed with them has arrived, then mxedge dkim rm ${domain} <selector>`,
    );
    return ok(`${out.join("\n")}\n`);
  },
  async "dkim list"(api, [domain], o) {
    const { keys } = (await call(api, "GET", `/api/domains/${enc(need(domain, "dkim list <domain>"))}/dkim`))
      .json as {
      keys: DkimJson[];
    };
    if (o.json) return ok(jsonOut(keys));
    return ok(
      lines(
        table(
          keys.map((k) => [
            k.selector,
            k.algorithm,
            k.active ? "active" : `retired ${date(k.retiredAt)}`,
            `created ${date(k.createdAt)}`,
          ]),
        ),
        "(no DKIM keys)",
      ),
    );
  },
  async "dkim rm"(api, [domain, selector], o) {
    const usage = "dkim rm <domain> <selector>";
    const r = await call(
      api,
      "DELETE",
      `/api/domains/${enc(need(domain, usage))}/dkim/${enc(need(selector, usage))}`,
    );
    return ok(
      o.json ? jsonOut(r.json) : `removed DKIM key ${selector} of ${domain}; remove its TXT record too\n`,
    );
  },

  async dns(api, [domain], o) {
    const r = (await call(api, "GET", `/api/domains/${enc(need(domain, "dns <domain>"))}/dns`)).json as {
      zone: string;
    };
    return ok(o.json ? jsonOut(r) : r.zone);
  },
  async "dns check"(api, [domain], o) {
    const r = (await call(api, "GET", `/api/domains/${enc(need(domain, "dns check <domain>"))}/dns/check`))
      .json as {
      ok: boolean;
      results: Array<{
        name: string;
        type: string;
        purpose: string;
        status: string;
        value: string;
        found: string[];
      }>;
    };
    const code = r.ok ? 0 : 1;
    if (o.json) return { stdout: jsonOut(r), code };
    const rows = [["STATUS", "TYPE", "NAME", "RECORD"]];
    const notes: string[] = [];
    for (const x of r.results) {
      rows.push([x.status.toUpperCase(), x.type, x.name, x.purpose]);
      if (x.status !== "ok") {
        notes.push(`${x.name} ${x.type} (${x.purpose}):`, `  expected  ${x.value}`);
        for (const f of x.found) notes.push(`  found     ${f}`);
      }
    }
    const bad = r.results.filter((x) => x.status !== "ok").length;
    const summary = bad === 0 ? "all records OK" : `${bad} of ${r.results.length} records need attention`;
    return {
      stdout: `${[...table(rows), ...(notes.length ? ["", ...notes] : []), "", summary].join("\n")}\n`,
      code,
    };
  },

  async "webhook add"(api, [name, url], o) {
    const usage = "webhook add <name> <url> [--format json|raw] [--secret-stdin]";
    const secret = o.values["secret-stdin"] ? o.readStdin().trim() : newWebhookSecret();
    const body: Record<string, unknown> = { name: need(name, usage), url: need(url, usage), secret };
    if (o.values.format) body.format = o.values.format;
    const e = (await call(api, "POST", "/api/webhooks", body)).json as { name: string; url: string };
    if (o.json) return ok(jsonOut({ ...e, secret }));
    return ok(`added webhook ${e.name} → ${e.url}\nsigning secret (Standard Webhooks): ${secret}\n`);
  },
  async "webhook list"(api, _a, o) {
    const { webhooks } = (await call(api, "GET", "/api/webhooks")).json as {
      webhooks: Array<{ name: string; enabled: boolean; format: string; url: string }>;
    };
    if (o.json) return ok(jsonOut(webhooks));
    return ok(
      lines(
        webhooks.map((e) => `${e.name}\t${e.enabled ? "enabled" : "disabled"}\t${e.format}\t${e.url}`),
        "(no webhooks)",
      ),
    );
  },
  async "webhook test"(api, [name], o) {
    const r = (await call(api, "POST", `/api/webhooks/${enc(need(name, "webhook test <name>"))}/test`))
      .json as {
      ok: boolean;
      status: number | null;
      error: string | null;
      url: string;
    };
    const code = r.ok ? 0 : 1;
    if (o.json) return { stdout: jsonOut(r), code };
    return {
      stdout: r.ok
        ? `${name}: ${r.url} answered ${r.status}\n`
        : `${name}: ${r.url} failed: ${r.error ?? `HTTP ${r.status}`}\n`,
      code,
    };
  },
  async "webhook redeliver"(api, [id], o) {
    await call(api, "POST", `/api/deliveries/${enc(need(id, "webhook redeliver <id>"))}/redeliver`);
    return ok(o.json ? jsonOut({ queued: id }) : `queued ${id} for delivery\n`);
  },
  async deliveries(api, _a, o) {
    const state = o.values.state ? `?state=${enc(String(o.values.state))}` : "";
    const { deliveries } = (await call(api, "GET", `/api/deliveries${state}`)).json as {
      deliveries: Array<{
        id: string;
        endpoint: string;
        state: string;
        attempts: number;
        lastStatus: number | null;
        lastError: string | null;
        messageId: string;
      }>;
    };
    if (o.json) return ok(jsonOut(deliveries));
    return ok(
      lines(
        deliveries.map(
          (d) =>
            `${d.id}\t${d.endpoint}\t${d.state}\tattempts=${d.attempts}\tlast=${d.lastStatus ?? d.lastError ?? "-"}\tmessage=${d.messageId}`,
        ),
        "(no deliveries)",
      ),
    );
  },

  async "messages list"(api, _a, o) {
    const limit = o.values.limit ? `?limit=${enc(String(o.values.limit))}` : "";
    const { messages } = (await call(api, "GET", `/api/messages${limit}`)).json as {
      messages: Array<{
        id: string;
        receivedAt: number;
        mailFrom: string;
        rcptTo: string[];
        subject: string | null;
        size: number;
      }>;
    };
    if (o.json) return ok(jsonOut(messages));
    return ok(
      lines(
        table(
          messages.map((m) => [
            m.id,
            new Date(m.receivedAt).toISOString().replace(/\.\d+Z$/, "Z"),
            m.mailFrom || "<>",
            m.rcptTo.join(","),
            `${m.size}B`,
            m.subject ?? "(no subject)",
          ]),
        ),
        "(no messages)",
      ),
    );
  },
  async "messages show"(api, [id], o) {
    const m = (await call(api, "GET", `/api/messages/${enc(need(id, "messages show <id>"))}`)).json as Record<
      string,
      unknown
    >;
    if (o.json) return ok(jsonOut(m));
    return ok(messageText(m));
  },
  async "messages raw"(api, [id]) {
    const res = await call(api, "GET", `/api/messages/${enc(need(id, "messages raw <id>"))}/raw`);
    return ok(res.bytes);
  },
};

COMMANDS.queue = (api, args, o) =>
  COMMANDS.deliveries!(api, args, { ...o, values: { ...o.values, state: o.values.state ?? "pending" } });
COMMANDS["webhook deliveries"] = COMMANDS.deliveries!;

/** The nouns whose commands live here (the CLI sends these to runCommand). */
export const ADMIN_NOUNS = [
  "domain",
  "user",
  "alias",
  "dkim",
  "dns",
  "webhook",
  "deliveries",
  "queue",
  "messages",
];

export async function runCommand(
  api: AdminTransport,
  positionals: string[],
  opts: CommandOptions,
): Promise<CommandOutput> {
  const [noun, verb, ...rest] = positionals;
  const two = `${noun} ${verb}`;
  const twoWord = COMMANDS[two];
  if (twoWord && !(noun === "dns" && rest.length === 0)) return twoWord(api, rest, opts);
  const one = COMMANDS[noun ?? ""];
  if (one) return one(api, positionals.slice(1), opts);
  throw new CommandUsageError(`unknown command: ${positionals.join(" ")}`);
}
