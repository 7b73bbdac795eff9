// The one entry file: parses argv, runs the command, maps error classes to exit codes.
// Everything it calls lives in library modules; nothing here decides what a PR's state is.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PrstateError, UsageError, errorMessage, redact } from "../errors.js";
import { COMMANDS, type CommandSpec } from "./commands.js";

const HELP = `prstate: keeps a git data repo of GitHub PR metadata correct under concurrent writers

usage: prstate <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}

Run 'prstate <command> --help' for a command's options.
Environment: GITHUB_TOKEN or GH_TOKEN (never printed), GITHUB_API_URL.`;

function commandHelp(name: string, spec: CommandSpec): string {
  const opts = Object.entries(spec.options)
    .map(([k, o]) => `  --${k}${o.type === "string" ? " VALUE" : ""}${o.multiple ? " (repeatable)" : ""}  ${o.help}`)
    .join("\n");
  return `usage: prstate ${name} ${spec.usage ?? "[options]"}\n\n${spec.summary}\n\noptions:\n${opts}\n  --help  this text`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    // Asked for: stdout, exit 0. No command at all is a usage error: the help goes to stderr.
    (name ? process.stdout : process.stderr).write(HELP + "\n");
    return name ? 0 : 2;
  }
  if (name === "--version") {
    process.stdout.write("prstate 0.1.0\n");
    return 0;
  }
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`unknown command '${name}' (see 'prstate --help')`);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(commandHelp(name, spec) + "\n");
    return 0;
  }
  const options: ParseArgsConfig["options"] = {};
  for (const [k, o] of Object.entries(spec.options)) options[k] = o.multiple ? { type: o.type, multiple: true } : { type: o.type };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${name}: ${errorMessage(err).replace(/\. To specify .*$/, "")}`);
  }
  const maxPositionals = spec.positionals ?? 0;
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`${name}: unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return spec.run(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals);
}

// Only when run as the entry point (the tests import `main` directly).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof PrstateError) {
        process.stderr.write(`prstate: ${err.message.split("\n")[0]}\n`);
        process.exitCode = err.exitCode;
      } else {
        // An unexpected bug: keep the stack for the report, but never a token.
        process.stderr.write(`prstate: internal error: ${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
        process.exitCode = 70;
      }
    },
  );
}
