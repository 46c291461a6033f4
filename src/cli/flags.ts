import { parseArgs } from "node:util";
import { parseDuration } from "../api/duration.ts";

/** One flag: its name (without --), kind, default and the line docs/contracts/flags.md shows. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: "string" | "duration" | "int" | "bool" | "list";
  readonly default: string;
  readonly help: string;
}

export type FlagValues = Record<string, string>;

/** Parses --name=value / --name value flags against specs; an unknown or malformed flag is an error naming it. */
export function parseFlags(specs: readonly FlagSpec[], args: readonly string[]): FlagValues {
  const options = Object.fromEntries(specs.map((s) => [s.name, { type: "string" as const }]));
  const { values } = parseArgs({ args: [...args], options, allowPositionals: false, strict: true });
  const out: FlagValues = {};
  for (const spec of specs) {
    const raw = values[spec.name] ?? spec.default;
    validate(spec, raw);
    out[spec.name] = raw;
  }
  return out;
}

function validate(spec: FlagSpec, raw: string): void {
  const bad = (what: string): never => {
    throw new Error(`--${spec.name}=${raw}: ${what}`);
  };
  if (spec.kind === "duration") {
    try {
      parseDuration(raw);
    } catch {
      bad("must be a duration such as 20m, 1h30m or 90s");
    }
  }
  if (spec.kind === "int" && !/^-?\d+$/.test(raw)) bad("must be an integer");
  if (spec.kind === "bool" && raw !== "true" && raw !== "false") bad("must be true or false");
}

export const durationFlag = (v: FlagValues, name: string): number => parseDuration(v[name] ?? "0");
export const intFlag = (v: FlagValues, name: string): number => Number.parseInt(v[name] ?? "0", 10);
export const boolFlag = (v: FlagValues, name: string): boolean => v[name] === "true";
export const listFlag = (v: FlagValues, name: string): string[] =>
  (v[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The flags table in Markdown (docs/contracts/flags.md is generated from the specs). */
export function flagsTable(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => `| \`--${s.name}\` | ${s.kind} | \`${s.default || '""'}\` | ${s.help} |`);
  return ["| Flag | Type | Default | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}
