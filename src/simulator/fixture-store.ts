// The simulated repository's PRs: the recorded fixtures (data/<N>/ and data/<N>-basic/),
// optionally many generated ones cloned from them, and the changes tests and the demo make.
// Generated PRs share their template's documents until they are changed, so a repository
// of thousands of PRs costs little memory; their summaries are kept up to date always.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  applyIdentity,
  cloneDocs,
  githubTime,
  patchDocs,
  pullRequestOf,
  readSummary,
  type PrDoc,
  type PrDocs,
  type PrIdentity,
  type PrPatch,
  type SimPrSummary,
} from "./pr-docs.js";
import { randomSha, seededRandom } from "./seeded-random.js";

interface SimPr {
  summary: SimPrSummary;
  /** The PR's own documents (fixtures, added or changed PRs). */
  own?: PrDocs;
  /** Generated PRs: the shared template documents and what makes them this PR's. */
  template?: PrDocs;
  identity?: PrIdentity;
}

export interface UpdatePatch extends PrPatch {
  /** true (default, except for a `ci`-only change): updatedAt = clock now; a string: that time; false: unchanged. */
  bumpUpdatedAt?: boolean | string;
}

export interface AddPrOptions {
  /** Default: one above the highest PR number. */
  number?: number;
  /** Number of an existing PR whose documents are cloned. Default: the lowest-numbered open PR with full data. */
  template?: number;
  /** Use these documents as they are instead of cloning a template (their PR number is used). */
  docs?: PrDocs;
  title?: string;
  state?: "open" | "closed" | "merged";
  isDraft?: boolean;
  labels?: string[];
  headSha?: string;
  /** Default: clock now. */
  updatedAt?: string;
  createdAt?: string;
}

const DAY = 86_400_000;

export class FixtureStore {
  private readonly prs = new Map<number, SimPr>();
  private seq = 0;
  private readonly random: () => number;

  constructor(
    private readonly now: () => number,
    seed = 1,
  ) {
    this.random = seededRandom(seed);
  }

  /** Reads `<dir>/data/<N>/` and `<dir>/data/<N>-basic/` (a PR may have both). */
  loadFixtures(dir: string): void {
    const dataDir = join(dir, "data");
    if (!existsSync(dataDir)) throw new Error(`simulator: no fixtures at ${dataDir}`);
    const found = new Map<number, PrDocs>();
    for (const name of readdirSync(dataDir).sort()) {
      const m = /^([1-9][0-9]*)(-basic)?$/.exec(name);
      if (!m) continue;
      const docs = found.get(Number(m[1])) ?? {};
      const read = (file: string) => (existsSync(join(dataDir, name, file)) ? (JSON.parse(readFileSync(join(dataDir, name, file), "utf8")) as PrDoc) : undefined);
      if (m[2]) docs.basic = read("basic_pr_info.json");
      else {
        docs.prInfo = read("pr_info.json");
        docs.reactions = read("pr_reactions.json");
      }
      found.set(Number(m[1]), docs);
    }
    for (const [n, docs] of found) if (docs.prInfo || docs.basic) this.put(n, docs);
  }

  /** Adds `count` PRs cloned from the PRs with full data, with new numbers, ids, titles, times and head SHAs. */
  generate(count: number): void {
    const templates = [...this.prs.values()].filter((p) => p.own?.prInfo).sort((a, b) => a.summary.number - b.summary.number);
    if (templates.length === 0 || count <= 0) return;
    const end = this.now();
    let number = this.maxNumber();
    for (let i = 0; i < count; i++) {
      const t = templates[i % templates.length]!;
      number += 1 + Math.floor(this.random() * 3);
      const createdMs = end - Math.floor(this.random() * 120 * DAY) - 60_000;
      const updatedMs = createdMs + Math.floor(this.random() * (end - createdMs - 60_000));
      const identity: PrIdentity = {
        number,
        nodeId: `PR_sim${number.toString(36)}`,
        title: `${t.summary.title} (simulated from #${t.summary.number})`,
        createdAt: githubTime(createdMs),
        updatedAt: githubTime(updatedMs),
        headSha: randomSha(this.random),
      };
      this.prs.set(number, { summary: identitySummary(t.summary, identity), template: t.own, identity });
    }
  }

  has(n: number): boolean {
    return this.prs.has(n);
  }

  summary(n: number): SimPrSummary | undefined {
    const pr = this.prs.get(n);
    return pr && { ...pr.summary, labels: [...pr.summary.labels] };
  }

  summaries(): SimPrSummary[] {
    return [...this.prs.keys()].sort((a, b) => a - b).map((n) => this.summary(n)!);
  }

  /** The PR's documents, read-only (generated PRs get a fresh copy each time). */
  docs(n: number): PrDocs | undefined {
    const pr = this.prs.get(n);
    if (!pr) return undefined;
    return pr.own ?? materialize(pr);
  }

  /** The PR body (for REST), without copying documents. */
  body(n: number): unknown {
    const pr = this.prs.get(n);
    const docs = pr?.own ?? pr?.template;
    return pullRequestOf(docs?.prInfo ?? docs?.basic)?.body;
  }

  update(n: number, patch: UpdatePatch): SimPrSummary {
    const pr = this.prs.get(n);
    if (!pr) throw new Error(`simulator: no PR #${n}`);
    // A copy: generated PRs may share these documents as their template.
    const docs = pr.own ? cloneDocs(pr.own) : materialize(pr);
    const now = githubTime(this.now());
    const { bumpUpdatedAt, ...change } = patch;
    const keys = Object.keys(change);
    const ciOnly = keys.length > 0 && keys.every((k) => k === "ci");
    const bump = bumpUpdatedAt ?? !ciOnly;
    const updatedAt = bump === false ? undefined : bump === true ? now : githubTime(Date.parse(bump));
    patchDocs(docs, change, now, updatedAt, ++this.seq);
    this.put(n, docs, change.headSha ?? pr.summary.headSha);
    return this.summary(n)!;
  }

  add(opts: AddPrOptions = {}): SimPrSummary {
    if (opts.docs) {
      const docs = cloneDocs(opts.docs);
      const n = Number(pullRequestOf(docs.prInfo ?? docs.basic)?.number);
      if (this.prs.has(n)) throw new Error(`simulator: PR #${n} exists`);
      this.put(n, docs);
      return this.update(n, { ...patchOf(opts), bumpUpdatedAt: opts.updatedAt ?? false });
    }
    const number = opts.number ?? this.maxNumber() + 1;
    if (this.prs.has(number)) throw new Error(`simulator: PR #${number} exists`);
    const templateNumber = opts.template ?? this.summaries().find((s) => s.hasFull && s.state === "open")?.number;
    const template = templateNumber === undefined ? undefined : this.docs(templateNumber);
    if (!template) throw new Error(`simulator: no template PR ${templateNumber ?? ""}`);
    const docs = cloneDocs(template);
    const at = opts.updatedAt ?? githubTime(this.now());
    const headSha = opts.headSha ?? randomSha(this.random);
    applyIdentity(docs, {
      number,
      nodeId: `PR_sim${number.toString(36)}`,
      title: opts.title ?? `Simulated PR ${number}`,
      createdAt: opts.createdAt ?? at,
      updatedAt: at,
      headSha,
    });
    this.put(number, docs, headSha);
    return this.update(number, { ...patchOf(opts), bumpUpdatedAt: false });
  }

  /** Replaces a PR's documents wholesale (e.g. with a later recorded version). */
  replaceDocs(n: number, docs: PrDocs): SimPrSummary {
    const pr = this.prs.get(n);
    if (!pr) throw new Error(`simulator: no PR #${n}`);
    this.put(n, cloneDocs(docs), pr.summary.headSha);
    return this.summary(n)!;
  }

  private put(n: number, docs: PrDocs, headSha?: string): void {
    this.prs.set(n, { own: docs, summary: readSummary(docs, headSha ?? randomSha(seededRandom(n))) });
  }

  private maxNumber(): number {
    let max = 0;
    for (const n of this.prs.keys()) max = Math.max(max, n);
    return max;
  }
}

function materialize(pr: SimPr): PrDocs {
  const docs = cloneDocs(pr.template!);
  applyIdentity(docs, pr.identity!);
  return docs;
}

// Must agree with applyIdentity: the summary of a generated PR without building its documents.
function identitySummary(t: SimPrSummary, id: PrIdentity): SimPrSummary {
  return {
    ...t,
    labels: [...t.labels],
    number: id.number,
    nodeId: id.nodeId,
    url: t.url.replace(new RegExp(`/pull/${t.number}$`), `/pull/${id.number}`),
    title: id.title,
    createdAt: id.createdAt,
    updatedAt: id.updatedAt,
    headSha: id.headSha,
    closedAt: t.closedAt === null ? null : id.updatedAt,
    mergedAt: t.mergedAt === null ? null : id.updatedAt,
  };
}

function patchOf(opts: AddPrOptions): PrPatch {
  const patch: PrPatch = {};
  if (opts.state !== undefined) patch.state = opts.state;
  if (opts.isDraft !== undefined) patch.isDraft = opts.isDraft;
  if (opts.labels !== undefined) patch.labels = opts.labels;
  if (opts.headSha !== undefined) patch.headSha = opts.headSha;
  if (opts.title !== undefined && opts.docs) patch.title = opts.title;
  return patch;
}
