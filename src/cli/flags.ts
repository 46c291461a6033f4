import { isIP } from "node:net";
import { formatDuration, parseDuration } from "../api/duration.ts";

/** A bound on a numeric flag (durations in milliseconds). */
export interface Range {
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
}

/** One flag: its name (without --), kind, default and the line docs/contracts/flags.md shows. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: "string" | "duration" | "int" | "float" | "bool" | "list" | "ip";
  readonly default: string;
  readonly help: string;
  readonly range?: Range;
  /** A one-letter alias (klog's `-v`). */
  readonly shorthand?: string;
  /**
   * Set for a flag sprout accepts (MCM has it) but does not act on: why. Giving it logs one
   * warning line naming it.
   */
  readonly inactive?: string;
}

/** A rule between flags: returns what is wrong, naming the flags, or undefined. */
export type FlagRule = (v: FlagValues) => string | undefined;

export type FlagValues = Record<string, string>;

export interface ParsedFlags {
  readonly values: FlagValues;
  /** One line per inactive flag given on the command line. */
  readonly warnings: readonly string[];
}

/** pflag's name normalisation as MCM sets it (component-base's WordSepNormalizeFunc): `_` is `-`. */
const normalize = (name: string): string => name.replaceAll("_", "-");

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/**
 * Parses flags the way MCM's pflag does: `--name=value`, `--name value`, a bare `--name` for a bool,
 * `-v=3`, `-v 3` or `-v3` for a shorthand, `_` and `-` alike in names, the last of repeated flags
 * wins. An unknown flag, a malformed or out-of-range value or a broken rule is an error naming the
 * flag.
 */
export function parseFlags(
  specs: readonly FlagSpec[],
  args: readonly string[],
  rules: readonly FlagRule[] = [],
): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.flatMap((s) => (s.shorthand ? [[s.shorthand, s] as const] : [])));
  const given = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--") {
      if (i + 1 < args.length) throw new Error(`unexpected argument "${args[i + 1] ?? ""}"`);
      break;
    }
    const { spec, inline } = flagOf(arg, byName, byShort);
    if (inline !== undefined) given.set(spec.name, inline);
    else if (spec.kind === "bool") given.set(spec.name, "true");
    else {
      const next = args[++i];
      if (next === undefined) throw new Error(`flag needs an argument: --${spec.name}`);
      given.set(spec.name, next);
    }
  }
  return resolved(specs, given, rules);
}

/** Defaults filled in, every value and rule checked, and the warnings for inactive flags given. */
function resolved(
  specs: readonly FlagSpec[],
  given: ReadonlyMap<string, string>,
  rules: readonly FlagRule[],
): ParsedFlags {
  const values: FlagValues = {};
  const warnings: string[] = [];
  for (const spec of specs) {
    const raw = given.get(spec.name);
    values[spec.name] = checked(spec, raw ?? spec.default);
    if (raw !== undefined && spec.inactive) {
      warnings.push(`flag --${spec.name}=${raw} is accepted but has no effect in sprout: ${spec.inactive}`);
    }
  }
  for (const rule of rules) {
    const wrong = rule(values);
    if (wrong) throw new Error(wrong);
  }
  return { values, warnings };
}

/** The spec an argument names and the value given with it (`--a=b`, `-vb`, `-v=b`), if any. */
function flagOf(
  arg: string,
  byName: ReadonlyMap<string, FlagSpec>,
  byShort: ReadonlyMap<string, FlagSpec>,
): { spec: FlagSpec; inline: string | undefined } {
  if (arg.startsWith("--") && arg.length > 2) {
    const eq = arg.indexOf("=");
    const name = normalize(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
    const spec = byName.get(name);
    if (!spec) throw new Error(`unknown flag: --${name}`);
    return { spec, inline: eq < 0 ? undefined : arg.slice(eq + 1) };
  }
  if (arg.startsWith("-") && arg.length > 1) {
    const spec = byShort.get(arg.slice(1, 2));
    if (!spec) throw new Error(`unknown shorthand flag: ${arg.slice(0, 2)} in ${arg}`);
    const rest = arg.slice(2);
    return { spec, inline: rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest };
  }
  throw new Error(`unexpected argument "${arg}" (flags take the form --name=value)`);
}

/** The value in canonical form (bools as true/false), or an error naming the flag. */
function checked(spec: FlagSpec, raw: string): string {
  const bad = (what: string): never => {
    throw new Error(`--${spec.name}=${raw}: ${what}`);
  };
  switch (spec.kind) {
    case "bool":
      if (GO_TRUE.has(raw)) return "true";
      if (GO_FALSE.has(raw)) return "false";
      return bad("must be true or false");
    case "ip":
      return isIP(raw) ? raw : bad("must be an IP address such as 0.0.0.0 or 127.0.0.1");
    case "duration": {
      let ms = 0;
      try {
        ms = parseDuration(raw);
      } catch {
        bad("must be a duration such as 20m, 1h30m or 90s");
      }
      inRange(spec, ms, bad, formatDuration);
      return raw;
    }
    case "int":
    case "float": {
      const re = spec.kind === "int" ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
      if (!re.test(raw)) bad(spec.kind === "int" ? "must be an integer" : "must be a number");
      inRange(spec, Number(raw), bad, String);
      return raw;
    }
    default:
      return raw;
  }
}

function inRange(spec: FlagSpec, n: number, bad: (what: string) => never, show: (n: number) => string): void {
  const r = spec.range;
  if (!r) return;
  if (
    (r.min !== undefined && n < r.min) ||
    (r.above !== undefined && n <= r.above) ||
    (r.max !== undefined && n > r.max)
  ) {
    bad(`must be ${rangeText(r, show)}`);
  }
}

/** "between 0 and 65535", "at least 1", "greater than 0". */
export function rangeText(r: Range, show: (n: number) => string = String): string {
  if (r.min !== undefined && r.max !== undefined) return `between ${show(r.min)} and ${show(r.max)}`;
  if (r.min !== undefined) return `at least ${show(r.min)}`;
  if (r.above !== undefined) return `greater than ${show(r.above)}`;
  if (r.max !== undefined) return `at most ${show(r.max)}`;
  return "";
}

export const durationFlag = (v: FlagValues, name: string): number => parseDuration(v[name] ?? "0");
export const intFlag = (v: FlagValues, name: string): number => Number.parseInt(v[name] ?? "0", 10);
export const floatFlag = (v: FlagValues, name: string): number => Number(v[name] ?? "0");
export const boolFlag = (v: FlagValues, name: string): boolean => v[name] === "true";
export const listFlag = (v: FlagValues, name: string): string[] =>
  (v[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The flags table in Markdown (docs/contracts/flags.md is generated from the specs). */
export function flagsTable(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const name = s.shorthand ? `\`--${s.name}\`, \`-${s.shorthand}\`` : `\`--${s.name}\``;
    const show = s.kind === "duration" ? formatDuration : String;
    const range = s.range ? rangeText(s.range, show) : "";
    const help = s.inactive ? `**accepted, no effect:** ${s.inactive} (MCM: ${s.help})` : s.help;
    return `| ${name} | ${s.kind} | \`${s.default || '""'}\` | ${range} | ${help} |`;
  });
  return ["| Flag | Type | Default | Range | Meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}
