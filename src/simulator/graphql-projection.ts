// A minimal reading of GraphQL selection sets, enough to answer one query from the recorded
// response of a bigger one: the simulator derives the basic query's answer from a recorded
// full `pr_info.json` by keeping exactly the fields the basic query selects, in the order
// GitHub would send them. Fields, aliases, arguments (skipped), inline fragments
// (`... on Type`); named fragments are not used by prstate's queries and are refused.

export type Selection = SelectionItem[];
export type SelectionItem =
  | { kind: "field"; name: string; alias?: string; selection?: Selection }
  | { kind: "fragment"; on?: string; selection: Selection };

/** The selection set of the first operation in `query` (its root fields). */
export function parseSelection(query: string): Selection {
  const tokens = tokenize(query);
  let i = tokens.indexOf("{");
  if (i < 0) throw new Error("GraphQL: no selection set");
  const [selection] = readSelection(tokens, i);
  return selection;
}

/** Keeps from `value` what `selection` asks for; absent fields stay absent. */
export function project(value: unknown, selection: Selection): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => project(v, selection));
  const out: Record<string, unknown> = {};
  fill(out, value as Record<string, unknown>, selection);
  return out;
}

function fill(out: Record<string, unknown>, source: Record<string, unknown>, selection: Selection): void {
  for (const item of selection) {
    if (item.kind === "fragment") {
      const typename = source.__typename;
      if (item.on !== undefined && typeof typename === "string" && typename !== item.on) continue;
      fill(out, source, item.selection);
      continue;
    }
    const key = item.alias ?? item.name;
    if (!(key in source) || key in out) continue;
    out[key] = item.selection ? project(source[key], item.selection) : source[key];
  }
}

function readSelection(tokens: string[], start: number): [Selection, number] {
  if (tokens[start] !== "{") throw new Error(`GraphQL: expected "{" at token ${start}`);
  const selection: Selection = [];
  let i = start + 1;
  while (tokens[i] !== "}") {
    if (i >= tokens.length) throw new Error("GraphQL: unbalanced braces");
    if (tokens[i] === "...") {
      if (tokens[i + 1] !== "on" && tokens[i + 1] !== "{") throw new Error("GraphQL: named fragments are not supported");
      let on: string | undefined;
      i += 1;
      if (tokens[i] === "on") {
        on = tokens[i + 1];
        i += 2;
      }
      const [inner, next] = readSelection(tokens, i);
      selection.push({ kind: "fragment", on, selection: inner });
      i = next;
      continue;
    }
    let name = tokens[i]!;
    let alias: string | undefined;
    i += 1;
    if (tokens[i] === ":") {
      alias = name;
      name = tokens[i + 1]!;
      i += 2;
    }
    if (tokens[i] === "(") i = skipBalanced(tokens, i, "(", ")");
    while (tokens[i] === "@") {
      i += 2;
      if (tokens[i] === "(") i = skipBalanced(tokens, i, "(", ")");
    }
    let inner: Selection | undefined;
    if (tokens[i] === "{") [inner, i] = readSelection(tokens, i);
    selection.push({ kind: "field", name, ...(alias ? { alias } : {}), ...(inner ? { selection: inner } : {}) });
  }
  return [selection, i + 1];
}

function skipBalanced(tokens: string[], start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < tokens.length; i++) {
    if (tokens[i] === open) depth++;
    else if (tokens[i] === close && --depth === 0) return i + 1;
  }
  throw new Error(`GraphQL: unbalanced ${open}`);
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /\s+|,|#[^\n]*|"(?:[^"\\]|\\.)*"|\.\.\.|[{}():!$=@[\]]|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`GraphQL: cannot read the query at offset ${pos}`);
    const t = m[0];
    if (!/^[\s,#]/.test(t)) tokens.push(t);
    pos = re.lastIndex;
  }
  return tokens;
}
