// The command table of the CLI: each command's options and a `run` that calls the library.
// Commands print; they decide nothing about PR state themselves.
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { loadConfig, parseRepository, type Config } from "../config/config.js";
import { ConfigError, GitError, InputError, UsageError, registerSecret } from "../errors.js";
import { createGitHub } from "../github/client.js";
import type { GitHub } from "../github/github.js";
import { commitStaged, runGit } from "../git/git-cli.js";
import { prHistory } from "../git/history.js";
import { defaultWriter, pushWithRetry } from "../git/push-loop.js";
import { buildCommitMessage } from "../git/commit-message.js";
import { install } from "../install/install.js";
import { prNumber } from "../layout.js";
import { runCycle } from "../sync/run-cycle.js";
import { formatCycleReport, writeActionsSummary } from "../sync/cycle-output.js";
import { runCheck, formatCheckReport } from "../integrity/run-check.js";
import { readStatus, formatStatus } from "../status/read-status.js";

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  help: string;
}

export interface CommandSpec {
  summary: string;
  usage?: string;
  positionals?: number;
  options: Record<string, OptionSpec>;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}

type Values = Record<string, string | boolean | string[] | undefined>;

const repoOpt: OptionSpec = { type: "string", help: "the data repo (default: the current folder)" };
const jsonOpt: OptionSpec = { type: "boolean", help: "print JSON instead of text" };
const apiOpt: OptionSpec = { type: "string", help: "GitHub API base URL (default: GITHUB_API_URL or https://api.github.com)" };
const repositoryOpt: OptionSpec = { type: "string", help: "tracked repository OWNER/NAME (default: prstate.yaml's repository)" };

const str = (v: Values, k: string): string | undefined => (typeof v[k] === "string" ? (v[k] as string) : undefined);
/** The data repo folder; a --repo that names no folder is an input error, not an empty repo. */
function repoDir(v: Values, opts: { gitRoot: boolean } = { gitRoot: true }): string {
  const dir = resolve(str(v, "repo") ?? ".");
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new InputError(`--repo: not a folder: ${dir}`);
  if (!opts.gitRoot) return dir;
  // The data repo is the work tree's root, whichever of its folders the command runs in.
  try {
    return execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    throw new GitError(`${dir} is not in a git repository (a data repo is a git clone; see 'prstate install')`);
  }
}
const out = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);

function token(): string | undefined {
  const t = process.env.GITHUB_TOKEN || process.env.GH_TOKEN || undefined;
  registerSecret(t);
  return t;
}

function repository(v: Values, cfg: Config): string {
  const r = str(v, "repository") ?? cfg.repository;
  if (!r) throw new ConfigError("repository: not set; pass --repository OWNER/NAME or set it in prstate.yaml");
  return parseRepository(r, str(v, "repository") ? "--repository" : "repository");
}

function github(v: Values, cfg: Config, log: (line: string) => void): GitHub {
  const apiUrl = str(v, "api-url") ?? process.env.GITHUB_API_URL;
  if (apiUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(apiUrl)) throw new ConfigError(`--api-url: not an http(s) URL: ${JSON.stringify(apiUrl)}`);
  const t = token();
  if (!t) log("no GITHUB_TOKEN or GH_TOKEN: unauthenticated requests (GitHub allows 60 an hour, and no GraphQL)");
  const interval = minRequestInterval();
  return createGitHub({
    repository: repository(v, cfg),
    ...(t ? { token: t } : {}),
    ...(apiUrl ? { apiUrl } : {}),
    ...(interval !== undefined ? { minWriteIntervalMs: interval } : {}),
    log,
  });
}

/**
 * PRSTATE_MIN_REQUEST_INTERVAL_MS: spacing of GraphQL and write requests in ms (default 1000,
 * GitHub's advice for github.com). Only for a local simulator or a GHES instance that allows
 * more; api.github.com's secondary rate limits punish a shorter spacing.
 */
function minRequestInterval(): number | undefined {
  const raw = process.env.PRSTATE_MIN_REQUEST_INTERVAL_MS;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,6}$/.test(raw.trim())) throw new ConfigError(`PRSTATE_MIN_REQUEST_INTERVAL_MS: expected milliseconds (0..999999), got ${JSON.stringify(raw).slice(0, 40)}`);
  return Number(raw.trim());
}

const stderrLog = (line: string) => process.stderr.write(`${line}\n`);

export const COMMANDS: Record<string, CommandSpec> = {
  install: {
    summary: "write the merge driver's .gitattributes entries and .git/config (every CI checkout needs it)",
    options: { repo: repoOpt, check: { type: "boolean", help: "change nothing; exit 3 and list what is missing" } },
    async run(v) {
      const report = await install(repoDir(v), { check: v.check === true });
      if (v.check === true) {
        if (report.missing.length > 0) {
          for (const m of report.missing) process.stderr.write(`missing: ${m}\n`);
          throw new ConfigError(`merge driver not installed in ${report.repoDir} (${report.missing.length} item(s) missing); run 'prstate install'`);
        }
        out(`installed: ${report.repoDir}`);
        return 0;
      }
      out(report.changed.length > 0 ? `installed into ${report.repoDir}: ${report.changed.join(", ")}` : `already installed: ${report.repoDir}`);
      return 0;
    },
  },

  sync: {
    summary: "run one update cycle: poll, drain the queue, check, download, commit, push",
    options: {
      repo: repoOpt,
      "api-url": apiOpt,
      repository: repositoryOpt,
      "no-push": { type: "boolean", help: "commit locally, do not push" },
      "dry-run": { type: "boolean", help: "print the plan; download, write and commit nothing" },
      spool: { type: "string", help: "also drain this receiver spool (prstate serve --spool) into the queue" },
      writer: { type: "string", help: "writer id for attempt files and trailers (default: the Actions run, else host-pid)" },
      json: jsonOpt,
    },
    async run(v) {
      const dir = repoDir(v);
      const cfg = await loadConfig(dir);
      const json = v.json === true;
      const log = json ? () => undefined : stderrLog;
      const report = await runCycle({
        repoDir: dir,
        config: cfg,
        github: github(v, cfg, log),
        writer: str(v, "writer") ?? defaultWriter(),
        push: v["no-push"] !== true,
        dryRun: v["dry-run"] === true,
        ...(str(v, "spool") ? { spoolDir: resolve(str(v, "spool")!) } : {}),
        log,
      });
      out(json ? JSON.stringify(report, null, 2) : formatCycleReport(report));
      await writeActionsSummary(report, process.env, json ? process.stderr : process.stdout);
      return 0;
    },
  },

  push: {
    summary: "commit what prstate staged, then push, merging concurrent remote work in-process",
    options: {
      repo: repoOpt,
      remote: { type: "string", help: "remote (default origin)" },
      branch: { type: "string", help: "remote branch (default: the current branch)" },
      writer: { type: "string", help: "writer id for the trailers" },
      json: jsonOpt,
    },
    async run(v) {
      const dir = repoDir(v);
      const writer = str(v, "writer") ?? defaultWriter();
      // Checked before committing: the push loop refuses an unclean tree, and a commit made
      // first would already hold whatever was staged next to the person's unstaged edits.
      const unstaged = await runGit(dir, ["diff", "--quiet", "--no-ext-diff"], { okCodes: [1] });
      if (unstaged.code === 1) throw new GitError(`${dir} has unstaged changes to tracked files; commit, stage or discard them before 'prstate push'`);
      const commit = await commitStaged(dir, buildCommitMessage([], { subject: "prstate: record staged changes", body: `Prstate-Writer: ${writer}` }));
      const res = await pushWithRetry({
        repoDir: dir,
        writer,
        log: stderrLog,
        ...(str(v, "remote") ? { remote: str(v, "remote")! } : {}),
        ...(str(v, "branch") ? { branch: str(v, "branch")! } : {}),
      });
      if (v.json === true) out(JSON.stringify({ commit, ...res }, null, 2));
      else out(res.upToDate ? "up to date: nothing to push" : `pushed after ${res.tries} tr${res.tries === 1 ? "y" : "ies"}, ${res.merges} merge(s), ${res.conflictsResolved} conflict(s) resolved`);
      return 0;
    },
  },

  check: {
    summary: "run the integrity checks (all of data/); exit 1 while findings remain; --fix moves PRs through the state machine and commits",
    options: {
      repo: repoOpt,
      "api-url": apiOpt,
      repository: repositoryOpt,
      paranoid: { type: "boolean", help: "also compare key fields of every open PR with GitHub" },
      fix: { type: "boolean", help: "fix what was found and commit with trailers" },
      offline: { type: "boolean", help: "skip the checks that ask GitHub" },
      writer: { type: "string", help: "writer id for the trailers" },
      json: jsonOpt,
    },
    async run(v) {
      const dir = repoDir(v);
      const cfg = await loadConfig(dir);
      const json = v.json === true;
      if (v.offline === true && v.paranoid === true) throw new UsageError("check: --paranoid compares with GitHub; it cannot be combined with --offline");
      const gh = v.offline === true ? undefined : github(v, cfg, json ? () => undefined : stderrLog);
      const report = await runCheck({
        repoDir: dir,
        config: cfg,
        ...(gh ? { github: gh } : {}),
        paranoid: v.paranoid === true,
        fix: v.fix === true,
        writer: str(v, "writer") ?? defaultWriter(),
      });
      out(json ? JSON.stringify(report, null, 2) : formatCheckReport(report));
      // Like a linter, so a workflow can gate on it: 1 while problems remain unfixed.
      const remaining = report.fixed ? report.fixed.unfixed.length : report.findings.length;
      return remaining > 0 ? 1 : 0;
    },
  },

  status: {
    summary: "counts per state, queue depth, stubborn and failing PRs, last periodic runs",
    options: { repo: repoOpt, json: jsonOpt },
    async run(v) {
      const dir = repoDir(v);
      const status = await readStatus(dir, await loadConfig(dir));
      out(v.json === true ? JSON.stringify(status, null, 2) : formatStatus(status));
      return 0;
    },
  },

  history: {
    summary: "a PR's state transitions from the commit trailers, newest first",
    usage: "N [options]",
    positionals: 1,
    options: { repo: repoOpt, json: jsonOpt },
    async run(v, positionals) {
      if (positionals.length === 0) throw new UsageError("history: which PR? (prstate history N)");
      let pr: number;
      try {
        pr = prNumber(positionals[0]);
      } catch (err) {
        throw new InputError(`history: ${(err as Error).message}`);
      }
      const dir = repoDir(v);
      // prHistory treats "no commits" as "no history"; a folder that is no repository is an error.
      if ((await runGit(dir, ["rev-parse", "--git-dir"], { okCodes: [128] })).code !== 0) throw new GitError(`${dir} is not a git repository`);
      const entries = await prHistory(dir, pr);
      if (v.json === true) out(JSON.stringify(entries, null, 2));
      else if (entries.length === 0) out(`#${pr}: no transitions recorded`);
      else for (const e of entries) out(`${e.date}  ${e.commit.slice(0, 10)}  #${pr} ${e.transition.from} -> ${e.transition.to}  (${e.transition.reason}; ${e.transition.writer})`);
      return 0;
    },
  },

  serve: {
    summary: "webhook receiver: verify, store durably, answer 202; drained by sync --spool",
    options: {
      port: { type: "string", help: "port (default 8787; 0 = any free port)" },
      host: { type: "string", help: "address to listen on (default 127.0.0.1)" },
      "secret-env": { type: "string", help: "environment variable holding the webhook secret (default PRSTATE_WEBHOOK_SECRET)" },
      spool: { type: "string", help: "spool folder (default ./prstate-spool)" },
      "allow-unsigned": { type: "boolean", help: "accept deliveries without a secret configured (local testing only)" },
      repo: { type: "string", help: "data repo whose prstate.yaml 'webhooks:' overrides the default subscription (default: the current folder)" },
    },
    async run(v) {
      const { startReceiver } = await import("../../hooks/http-receiver.js");
      const { loadSubscription } = await import("../../hooks/subscription.js");
      const subscription = loadSubscription((await loadConfig(repoDir(v, { gitRoot: false }))).webhooks);
      const secretEnv = str(v, "secret-env") ?? "PRSTATE_WEBHOOK_SECRET";
      const secret = process.env[secretEnv] || undefined;
      if (!secret && v["allow-unsigned"] !== true) {
        throw new ConfigError(`--secret-env: ${secretEnv} is not set; set the webhook secret there (or pass --allow-unsigned for local testing)`);
      }
      registerSecret(secret);
      const portText = str(v, "port") ?? "8787";
      if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port: not a port number: ${portText}`);
      const spoolDir = resolve(str(v, "spool") ?? "prstate-spool");
      // Fail now, not with a 503 on every delivery later.
      try {
        mkdirSync(spoolDir, { recursive: true });
        accessSync(spoolDir, constants.W_OK);
      } catch (err) {
        throw new InputError(`--spool: cannot use ${spoolDir} as the spool folder (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      }
      const receiver = await startReceiver({
        port: Number(portText),
        host: str(v, "host") ?? "127.0.0.1",
        ...(secret ? { secret } : {}),
        spoolDir,
        subscription,
        log: stderrLog,
      });
      out(`listening on ${receiver.url}`);
      await new Promise<void>((done) => {
        const stop = () => {
          stderrLog("shutting down: finishing deliveries in flight");
          receiver.close().then(done, done);
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      return 0;
    },
  },

  enqueue: {
    summary: "queue a GitHub Actions event (repository_dispatch, pull_request_target, workflow_run, ...) and stage it",
    options: {
      repo: repoOpt,
      event: { type: "string", help: "event name (default: GITHUB_EVENT_NAME)" },
      payload: { type: "string", help: "event payload JSON file (default: GITHUB_EVENT_PATH)" },
      delivery: { type: "string", help: "delivery id (default: a hash of event and payload)" },
      json: jsonOpt,
    },
    async run(v) {
      // Inside GitHub Actions the event is the workflow's own unless named.
      const event = str(v, "event") ?? (process.env.GITHUB_EVENT_NAME || undefined);
      const payloadPath = str(v, "payload") ?? (process.env.GITHUB_EVENT_PATH || undefined);
      if (!event || !payloadPath) throw new UsageError("enqueue: --event NAME and --payload FILE are required (outside GitHub Actions)");
      const dir = repoDir(v);
      const { enqueueForRepo } = await import("./enqueue-command.js");
      const res = await enqueueForRepo(dir, { event, payloadPath: resolve(payloadPath), ...(str(v, "delivery") ? { deliveryId: str(v, "delivery")! } : {}) });
      if (v.json === true) out(JSON.stringify(res, null, 2));
      else if (res.ignored) out(`ignored: ${res.ignored}`);
      else out(`queued ${res.queued.length} file(s)${res.duplicates.length > 0 ? `, ${res.duplicates.length} already queued` : ""}; run 'prstate push' to publish`);
      return 0;
    },
  },

  redeliver: {
    summary: "ask GitHub to redeliver failed webhook deliveries, once each",
    options: {
      repo: repoOpt,
      "api-url": apiOpt,
      repository: repositoryOpt,
      "hook-id": { type: "string", help: "one hook (default: every active repository hook)" },
      since: { type: "string", help: "only failures at or after this ISO time" },
      memory: { type: "string", help: "file remembering what was asked for (default .prstate-redeliveries.json in --repo)" },
      json: jsonOpt,
    },
    async run(v) {
      const dir = repoDir(v);
      const cfg = await loadConfig(dir);
      const hook = str(v, "hook-id");
      if (hook !== undefined && !/^[1-9][0-9]{0,15}$/.test(hook)) throw new UsageError(`--hook-id: not a hook id: ${hook}`);
      const since = str(v, "since");
      if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError(`--since: not a time: ${since}`);
      const { redeliverFailed } = await import("../intake/redeliver.js");
      const res = await redeliverFailed(github(v, cfg, stderrLog), {
        ...(hook ? { hookId: Number(hook) } : {}),
        ...(since ? { since: new Date(since) } : {}),
        memoryFile: resolve(str(v, "memory") ?? resolve(dir, ".prstate-redeliveries.json")),
        log: stderrLog,
      });
      out(JSON.stringify(res, null, v.json === true ? 2 : undefined));
      return 0;
    },
  },

  "label-ci": {
    summary: "optional: add awaiting-CI on new pushes, remove it when CI completes",
    options: {
      repo: repoOpt,
      "api-url": apiOpt,
      repository: repositoryOpt,
      event: { type: "string", help: "event name" },
      payload: { type: "string", help: "event payload JSON file" },
      label: { type: "string", help: "label name (default awaiting-CI)" },
    },
    async run(v) {
      const event = str(v, "event");
      const payloadPath = str(v, "payload");
      if (!event || !payloadPath) throw new UsageError("label-ci: --event NAME and --payload FILE are required");
      const payload = await readJson(payloadPath);
      const dir = repoDir(v);
      const cfg = await loadConfig(dir);
      const { planLabelCi } = await import("../intake/label-ci.js");
      const actions = planLabelCi(event, payload, str(v, "label") ? { label: str(v, "label")! } : {});
      if (actions.length === 0) {
        out("nothing to do");
        return 0;
      }
      const gh = github(v, cfg, stderrLog);
      for (const a of actions) {
        if (a.op === "add") await gh.addLabels(a.pr, [a.label]);
        else await gh.removeLabel(a.pr, a.label);
        out(`${a.op} ${a.label} on #${a.pr}`);
      }
      return 0;
    },
  },

  simulate: {
    summary: "serve the GitHub simulator (REST + GraphQL on 127.0.0.1 with the recorded fixtures) to point sync at",
    options: {
      port: { type: "string", help: "port (default 0: any free port; the URL is printed)" },
      generate: { type: "string", help: "extra PRs generated from the fixtures (default 20)" },
      token: { type: "string", help: "require this token (default: accept any request)" },
    },
    async run(v) {
      const portText = str(v, "port") ?? "0";
      if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port: not a port number: ${portText}`);
      const generate = str(v, "generate") ?? "20";
      if (!/^\d{1,5}$/.test(generate)) throw new UsageError(`--generate: expected a number of PRs, got ${generate}`);
      const { GitHubSimulator } = await import("../simulator/github-simulator.js");
      const sim = new GitHubSimulator({ generate: Number(generate), ...(str(v, "token") ? { token: str(v, "token")! } : {}) });
      const url = await sim.start(Number(portText));
      out(`GitHub simulator for ${sim.owner}/${sim.repo} on ${url} (${sim.prs().length} PRs, ${sim.prs().filter((p) => p.state === "open").length} open)`);
      out(`try: prstate sync --repo DIR --repository ${sim.owner}/${sim.repo} --api-url ${url}`);
      await new Promise<void>((done) => {
        process.once("SIGTERM", () => done());
        process.once("SIGINT", () => done());
      });
      await sim.stop();
      return 0;
    },
  },

  demo: {
    summary: "run the main job end to end on the embedded default (simulator, two writers, faults, webhook burst)",
    options: {
      keep: { type: "boolean", help: "keep the demo's temp folder and print where it is" },
      cycles: { type: "string", help: "cycles per writer (default 3)" },
      json: jsonOpt,
    },
    async run(v) {
      const cycles = str(v, "cycles") ?? "3";
      if (!/^[1-9][0-9]?$/.test(cycles)) throw new UsageError(`--cycles: expected 1..99, got ${cycles}`);
      const { runDemo } = await import("../demo/run-demo.js");
      const report = await runDemo({ keep: v.keep === true, cycles: Number(cycles), log: v.json === true ? () => undefined : (l) => out(l) });
      if (v.json === true) out(JSON.stringify(report, null, 2));
      return report.verdict.ok ? 0 : 1;
    },
  },
};

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(path), "utf8");
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${path}: not valid JSON`);
  }
}
