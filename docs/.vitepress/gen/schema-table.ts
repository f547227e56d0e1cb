/**
 * A zod schema's JSON Schema (`z.toJSONSchema`, io: "input") walked into TOML-shaped sections of
 * rows: field, type, default, description. Descriptions come from the source's doc comments
 * (source-comments.ts): an object whose keys are exactly those of one declaration takes that
 * declaration's comments, so `listeners[].proxy` reads ProxyPolicySchema's.
 */
import { type DeclIndex, declarationWithKeys } from "./source-comments.ts";

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  description?: string;
}

export interface FieldRow {
  /** Full path with `[]` for array elements: `listeners[].proxy.trusted`. */
  path: string;
  /** The name within its section: `proxy.trusted`. */
  name: string;
  type: string;
  default: string;
  required: boolean;
  description: string | undefined;
}

export interface Section {
  /** `limits`, `tls.acme`, `listeners` ("" for the top level). */
  path: string;
  /** The full path of the table itself, as in FieldRow.path (`listeners`, `tls.acme`). */
  fullPath: string;
  /** An array of tables (`[[listeners]]`). */
  array: boolean;
  description: string | undefined;
  rows: FieldRow[];
}

interface Context {
  decl: string;
  path: string[];
}

const SAFE = Number.MAX_SAFE_INTEGER;

function humane(name: string, value: number): string {
  if (/Bytes$/.test(name) && value >= 1024) {
    if (value % (1024 * 1024) === 0) return ` (${value / 1024 / 1024} MiB)`;
    if (value % 1024 === 0) return ` (${value / 1024} KiB)`;
  }
  if (/Ms$/.test(name) && value >= 1000) {
    if (value % 3_600_000 === 0) return ` (${value / 3_600_000} h)`;
    if (value % 60_000 === 0) return ` (${value / 60_000} min)`;
    if (value % 1000 === 0) return ` (${value / 1000} s)`;
  }
  return "";
}

export function formatDefault(name: string, value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "number") return `\`${value}\`${humane(name, value)}`;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return "";
  const json = JSON.stringify(value);
  if (Array.isArray(value) && json.length > 60) return `${value.length} entries (below)`;
  return `\`${json}\``;
}

export class SchemaWalker {
  readonly #root: JsonSchema;
  readonly #index: DeclIndex;

  constructor(root: JsonSchema, index: DeclIndex) {
    this.#root = root;
    this.#index = index;
  }

  resolve(s: JsonSchema): { schema: JsonSchema; ref?: string } {
    if (!s.$ref) return { schema: s };
    const name = s.$ref.replace(/^#\/\$defs\//, "");
    const target = this.#root.$defs?.[name];
    if (!target) throw new Error(`unresolved $ref ${s.$ref}`);
    return { schema: { ...target, ...(s.default !== undefined ? { default: s.default } : {}) }, ref: name };
  }

  typeOf(input: JsonSchema, seen: ReadonlySet<string> = new Set()): string {
    const { schema: s, ref } = this.resolve(input);
    if (ref && seen.has(ref)) return "table (nested, the same fields)";
    const union = s.anyOf ?? s.oneOf;
    if (union) {
      const members = union.map((m) => this.typeOf(m, seen));
      const [a, b] = members;
      if (members.length === 2 && a && b && (b === `list of ${a}` || b === `non-empty list of ${a}`))
        return `${a}, or a list of them`;
      return [...new Set(members)].join(" or ");
    }
    if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
    if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(", ");
    if (Array.isArray(s.type)) return s.type.map((t) => this.typeOf({ ...s, type: t }, seen)).join(" or ");
    const type = s.type;
    switch (type) {
      case "string":
        return s.format === "uri" ? "URL" : "string";
      case "integer":
      case "number": {
        const lo = s.minimum !== undefined && s.minimum > -SAFE ? s.minimum : undefined;
        const hi = s.maximum !== undefined && s.maximum < SAFE ? s.maximum : undefined;
        const word = type === "integer" ? "integer" : "number";
        if (lo !== undefined && hi !== undefined) return `${word} ${lo}–${hi}`;
        if (lo !== undefined) return `${word} ≥ ${lo}`;
        if (hi !== undefined) return `${word} ≤ ${hi}`;
        return word;
      }
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "array":
        return `${s.minItems ? "non-empty list" : "list"} of ${s.items ? this.typeOf(s.items, seen) : "any"}`;
      case "object":
        return "table";
      default:
        return "any";
    }
  }

  #context(s: JsonSchema, inherited: Context): Context {
    const keys = Object.keys(s.properties ?? {});
    const file = inherited.decl.split("#")[0];
    const decl = keys.length > 0 ? declarationWithKeys(this.#index, keys, file) : null;
    return decl ? { decl, path: [] } : inherited;
  }

  #comment(ctx: Context, key: string): string | undefined {
    return this.#index.comments.get(ctx.decl)?.get([...ctx.path, key].join("."));
  }

  /** Sections in document order: the object's own rows first, then each nested table. */
  sections(rootDecl: string): Section[] {
    const out: Section[] = [];
    this.#walk(this.#root, { decl: rootDecl, path: [] }, "", "", false, undefined, out, new Set());
    return out;
  }

  /** One list of rows in document order, nested tables inline with dotted names (`envelope.mailFrom`). */
  rows(rootDecl: string): FieldRow[] {
    this.#inline = true;
    try {
      return this.sections(rootDecl).flatMap((s) => s.rows);
    } finally {
      this.#inline = false;
    }
  }

  #inline = false;

  #walk(
    node: JsonSchema,
    inherited: Context,
    sectionPath: string,
    fullPath: string,
    array: boolean,
    description: string | undefined,
    out: Section[],
    seen: ReadonlySet<string>,
  ): void {
    const ctx = this.#context(node, inherited);
    const own = array ? fullPath.replace(/\[\]$/, "") : fullPath;
    const section: Section = { path: sectionPath, fullPath: own, array, description, rows: [] };
    out.push(section);
    const nested: Array<() => void> = [];
    const addRows = (obj: JsonSchema, c: Context, prefix: string, seenHere: ReadonlySet<string>) => {
      for (const [key, raw] of Object.entries(obj.properties ?? {})) {
        const { schema: s, ref } = this.resolve(raw);
        const name = prefix ? `${prefix}.${key}` : key;
        const path = fullPath ? `${fullPath}.${key}` : key;
        const comment = this.#comment(c, key);
        const childCtx = { decl: c.decl, path: [...c.path, key] };
        const seenChild = ref ? new Set([...seenHere, ref]) : seenHere;
        const recursive = ref !== undefined && seenHere.has(ref);
        const isTable = !recursive && s.type === "object" && s.properties !== undefined;
        const isTableArray =
          s.type === "array" && s.items?.type === "object" && s.items.properties !== undefined;
        if (isTable && prefix === "" && !this.#inline) {
          const sub = sectionPath ? `${sectionPath}.${key}` : key;
          nested.push(() => this.#walk(s, childCtx, sub, path, false, comment, out, seenChild));
          continue;
        }
        if (isTableArray && prefix === "" && s.items && !this.#inline) {
          const items = s.items;
          const sub = sectionPath ? `${sectionPath}.${key}` : key;
          nested.push(() => this.#walk(items, childCtx, sub, `${path}[]`, true, comment, out, seenChild));
          continue;
        }
        section.rows.push({
          path,
          name,
          type: this.typeOf(raw, seenHere),
          default: formatDefault(key, s.default),
          required: (obj.required ?? []).includes(key),
          description: comment,
        });
        // A table inside a union (`proxy = true` or `proxy = { … }`), or one below a row: its fields as rows.
        const members = (s.anyOf ?? s.oneOf ?? []).map((m) => this.resolve(m).schema);
        const inner = isTable
          ? [{ schema: s, suffix: "" }]
          : isTableArray && s.items
            ? [{ schema: s.items, suffix: "[]" }]
            : members.flatMap((m) =>
                m.properties
                  ? [{ schema: m, suffix: "" }]
                  : m.type === "array" && m.items?.properties
                    ? [{ schema: m.items, suffix: "[]" }]
                    : [],
              );
        for (const { schema: member, suffix } of recursive ? [] : inner) {
          const mctx = this.#context(member, childCtx);
          const before = fullPath;
          fullPath = `${path}${suffix}`;
          addRows(member, mctx, `${name}${suffix}`, seenChild);
          fullPath = before;
        }
      }
    };
    addRows(node, ctx, "", seen);
    for (const n of nested) n();
  }
}

/** Every field path of a JSON Schema, independently of the walker (for the coverage test). */
export function allPaths(
  root: JsonSchema,
  node: JsonSchema = root,
  prefix = "",
  seen = new Set<string>(),
): string[] {
  const resolve = (s: JsonSchema): [JsonSchema, string | undefined] => {
    if (!s.$ref) return [s, undefined];
    const name = s.$ref.replace(/^#\/\$defs\//, "");
    return [root.$defs?.[name] ?? {}, name];
  };
  const [s, ref] = resolve(node);
  if (ref && seen.has(ref)) return [];
  const seenNext = ref ? new Set([...seen, ref]) : seen;
  const out: string[] = [];
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path);
    out.push(...allPaths(root, child, path, seenNext));
  }
  if (s.items) out.push(...allPaths(root, s.items, `${prefix}[]`, seenNext));
  for (const m of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) out.push(...allPaths(root, m, prefix, seenNext));
  return [...new Set(out)];
}
