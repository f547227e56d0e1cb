/**
 * The doc comments (`/** … *\/`) of object keys in TypeScript source, by declaration and key path:
 * `ConfigSchema` › `limits.maxMessageBytes` → "…". The zod schemas carry structure, types and defaults;
 * their field descriptions live in these comments, so the reference tables read both.
 *
 * A small scanner, not a parser: it follows brackets, strings, template literals, regular expression
 * literals and comments, and records `key:` (or `key?:`) where an object key or interface member can
 * stand. Top-level `const NAME =` and `interface NAME {` open a declaration.
 */

export interface KeyEntry {
  decl: string;
  /** Keys from the declaration down to this one. */
  path: string[];
  comment?: string;
}

const IDENT_START = /[A-Za-z_$]/;
const IDENT = /[A-Za-z0-9_$]/;
/** After one of these a `/` starts a regular expression literal, not a division. */
const REGEX_BEFORE = new Set(["", "(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*"]);

function cleanComment(raw: string): string {
  return raw
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, "").trim())
    .filter((l) => l.length > 0)
    .join(" ")
    .trim();
}

export function scanKeys(source: string): KeyEntry[] {
  const entries: KeyEntry[] = [];
  /** Per open bracket, the key whose value it belongs to (null inside arrays, calls without a key…). */
  const frames: Array<string | null> = [];
  /** The open brackets themselves: keys stand only directly inside `{`. */
  const brackets: string[] = [];
  /** The key most recently seen at each depth, until a `,` or `;` ends its value. */
  const current: Array<string | null> = [null];
  let decl: string | null = null;
  let prev = ""; // last significant character outside comments
  let pending: string | undefined; // a doc comment not yet followed by any token
  let i = 0;
  const n = source.length;
  const depth = () => frames.length;

  const skipString = (quote: string): void => {
    i++;
    while (i < n && source[i] !== quote) {
      if (source[i] === "\\") i++;
      else if (quote === "`" && source[i] === "$" && source[i + 1] === "{") {
        let nest = 1;
        i += 2;
        while (i < n && nest > 0) {
          if (source[i] === "{") nest++;
          else if (source[i] === "}") nest--;
          else if (source[i] === "`" || source[i] === '"' || source[i] === "'")
            skipString(source[i] as string);
          if (nest > 0) i++;
        }
      }
      i++;
    }
    i++;
  };

  const keyAhead = (from: number): number | null => {
    let j = from;
    if (source[j] === "?") j++;
    while (j < n && /[ \t]/.test(source[j] as string)) j++;
    return source[j] === ":" && source[j + 1] !== ":" ? j + 1 : null;
  };

  const recordKey = (key: string): void => {
    const path = [...frames.filter((f): f is string => f !== null), key];
    if (decl !== null) entries.push({ decl, path, ...(pending ? { comment: pending } : {}) });
    current[depth()] = key;
  };

  while (i < n) {
    const c = source[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      if (source[i + 2] === "*" && source[i + 3] !== "/") pending = cleanComment(source.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === "/" && REGEX_BEFORE.has(prev)) {
      i++;
      let inClass = false;
      while (i < n && (inClass || source[i] !== "/")) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i++;
      }
      i++;
      while (i < n && /[a-z]/.test(source[i] as string)) i++;
      prev = "/";
      pending = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const start = i;
      skipString(c);
      const at = keyAhead(i);
      if (c !== "`" && at !== null && (prev === "{" || prev === ",") && brackets.at(-1) === "{") {
        recordKey(JSON.parse(c === '"' ? source.slice(start, i) : `"${source.slice(start + 1, i - 1)}"`));
        i = at;
        prev = ":";
      } else prev = c;
      pending = undefined;
      continue;
    }
    if (IDENT_START.test(c)) {
      const start = i;
      while (i < n && IDENT.test(source[i] as string)) i++;
      const word = source.slice(start, i);
      if (depth() === 0) {
        const m = /^(?:\s+([A-Za-z_$][\w$]*))/.exec(source.slice(i));
        if ((word === "const" || word === "let" || word === "interface") && m) {
          decl = m[1] as string;
          i += m[0].length;
        } else if (["function", "class", "type", "enum", "import"].includes(word)) decl = null;
        prev = "w";
        pending = undefined;
        continue;
      }
      const at = keyAhead(i);
      const keyPlace = (prev === "{" || prev === "," || prev === ";") && brackets.at(-1) === "{";
      if (at !== null && keyPlace) {
        recordKey(word);
        i = at;
        prev = ":";
      } else if (keyPlace && /^\s*[,}]/.test(source.slice(i, i + 40))) {
        recordKey(word); // shorthand property `{ port, … }`
        prev = "w";
      } else prev = "w";
      pending = undefined;
      continue;
    }
    if (c === "{" || c === "(" || c === "[") {
      frames.push(current[depth()] ?? null);
      brackets.push(c);
      current[depth()] = null;
    } else if (c === "}" || c === ")" || c === "]") {
      frames.pop();
      brackets.pop();
      current.length = depth() + 1;
    } else if (c === "," || c === ";") {
      current[depth()] = null;
    }
    prev = c;
    pending = undefined;
    i++;
  }
  return entries;
}

export interface DeclIndex {
  /** decl → "a.b.c" → comment */
  comments: Map<string, Map<string, string>>;
  /** decl → the keys at its first level */
  topKeys: Map<string, Set<string>>;
}

/** Declarations are named `file#Name` (`src/config.ts#ConfigSchema`), so equal names in two files stay apart. */
export function indexDeclarations(sources: Array<{ file: string; text: string }>): DeclIndex {
  const comments = new Map<string, Map<string, string>>();
  const topKeys = new Map<string, Set<string>>();
  for (const { file, text } of sources) {
    for (const scanned of scanKeys(text)) {
      const e = { ...scanned, decl: `${file}#${scanned.decl}` };
      if (e.path.length === 1) {
        const keys = topKeys.get(e.decl) ?? new Set<string>();
        keys.add(e.path[0] as string);
        topKeys.set(e.decl, keys);
      }
      if (e.comment) {
        const map = comments.get(e.decl) ?? new Map<string, string>();
        map.set(e.path.join("."), e.comment);
        comments.set(e.decl, map);
      }
    }
  }
  return { comments, topKeys };
}

/**
 * The declaration whose first-level keys are exactly `keys`: one in `file` (the file of the schema being
 * read), else one zod schema (`…Schema`) anywhere; null when none or several fit.
 */
export function declarationWithKeys(index: DeclIndex, keys: readonly string[], file?: string): string | null {
  const want = new Set(keys);
  const found = [...index.topKeys.entries()]
    .filter(([, have]) => have.size === want.size && [...want].every((k) => have.has(k)))
    .map(([name]) => name);
  const local = found.filter((name) => file !== undefined && name.startsWith(`${file}#`));
  if (local.length > 0) return local.length === 1 ? (local[0] ?? null) : null;
  const schemas = found.filter((name) => name.endsWith("Schema"));
  return schemas.length === 1 ? (schemas[0] ?? null) : null;
}
