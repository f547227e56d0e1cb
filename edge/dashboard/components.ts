/** Small building blocks the pages share: forms with their CSRF token, tables, statuses, times. */
import type { Principal } from "../../src/admin/principal.ts";
import type { Api } from "./api.ts";
import { type Child, h, type Node, type Props } from "./h.ts";

/** What every page is rendered with. */
export interface PageContext {
  principal: Principal;
  csrf: string;
  /** The request path, for the navigation's current page. */
  path: string;
  notice: string | null;
  error: string | null;
  api: Api;
  now: number;
  /** Parts that exist only when their feature is on this edge (e.g. the outbound queue). */
  features: { outbound: boolean };
  /** The request's query parameters. */
  query: Record<string, string>;
}

export const BASE = "/dashboard";

export function csrfField(pc: PageContext): Node {
  return h("input", { type: "hidden", name: "_csrf", value: pc.csrf });
}

/** A POST form (with the CSRF token) around `children`. */
export function postForm(
  pc: PageContext,
  action: string,
  opts: { class?: string; confirm?: string; label?: string },
  ...children: Child[]
): Node {
  return h(
    "form",
    {
      method: "post",
      action,
      class: opts.class ?? "row",
      "data-confirm": opts.confirm,
      "aria-label": opts.label,
    },
    csrfField(pc),
    ...children,
  );
}

/** A one-button form (delete, rotate, redeliver). */
export function actionButton(
  pc: PageContext,
  action: string,
  text: string,
  opts: { danger?: boolean; confirm?: string; label?: string; hidden?: Record<string, string> } = {},
): Node {
  return h(
    "form",
    { method: "post", action, class: "inline", "data-confirm": opts.confirm },
    csrfField(pc),
    ...Object.entries(opts.hidden ?? {}).map(([name, value]) => h("input", { type: "hidden", name, value })),
    h("button", { type: "submit", class: opts.danger ? "danger" : "quiet", "aria-label": opts.label }, text),
  );
}

export function field(label: string, name: string, attrs: Props = {}): Node {
  return h("label", null, label, h("input", { name, ...attrs }));
}

export function select(label: string, name: string, options: string[], selected?: string): Node {
  return h(
    "label",
    null,
    label,
    h(
      "select",
      { name },
      ...options.map((o) =>
        h("option", { value: o, selected: o === selected ? true : undefined }, o || "any"),
      ),
    ),
  );
}

export function submit(text: string): Node {
  return h("button", { type: "submit" }, text);
}

/** A table in its own scrollable, keyboard-reachable region (wide tables on a phone). */
export function table(caption: string, headers: string[], rows: Child[][], empty = "Nothing yet."): Node {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      null,
      h("caption", { class: "skip" }, caption),
      h("thead", null, h("tr", null, ...headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, ...rows.map((r) => h("tr", null, ...r.map((cell) => h("td", null, cell))))),
    ),
  );
}

export type Tone = "ok" | "bad" | "warn" | "none";

/** A status written out in words, coloured as a second cue. */
export function status(text: string, tone: Tone): Node {
  return h("span", { class: `status ${tone}` }, text);
}

/** The tone of an authentication result (pass / fail / none …). */
export function resultTone(result: string | null | undefined): Tone {
  if (!result || result === "none" || result === "neutral") return "none";
  if (result === "pass") return "ok";
  if (result === "softfail" || result === "temperror" || result === "policy") return "warn";
  return "bad";
}

export function verdict(check: string, result: string | null | undefined): Node {
  return status(`${check} ${result ?? "none"}`, resultTone(result));
}

export function time(ms: number | null | undefined): Node {
  if (ms === null || ms === undefined) return h("span", { class: "muted" }, "—");
  const iso = new Date(ms).toISOString();
  return h("time", { datetime: iso }, `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`);
}

export function facts(pairs: Array<[string, Child]>): Node {
  return h("dl", { class: "facts" }, ...pairs.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function link(href: string, text: string, attrs: Props = {}): Node {
  return h("a", { href, ...attrs }, text);
}
