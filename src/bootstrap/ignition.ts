import { YAML11_SCHEMA } from "js-yaml";
import { BootstrapInputError, loadYaml } from "./model.ts";
import type { NodeConfig, NodeFile } from "./node-config.ts";

/** The Ignition spec sprout writes (Flatcar and Fedora CoreOS read it). */
export const IGNITION_VERSION = "3.4.0";
/** Newer stable specs a user's own config may declare; the result then takes that version. */
const NEWER_VERSIONS = ["3.5.0"];
/** Default user of Ignition-based images (Flatcar, Fedora CoreOS), given the SSH keys without ssh.user. */
export const IGNITION_DEFAULT_USER = "core";

type Json = Record<string, unknown>;

/**
 * A data URL for file contents: text percent-encoded (so <<BOOTSTRAP_TOKEN>> stays findable by the
 * machine controller, URL-encoded as MCM does), binary as base64.
 */
export function dataUrl(content: string | Buffer): string {
  return typeof content === "string"
    ? `data:,${encodeURIComponent(content)}`
    : `data:;base64,${content.toString("base64")}`;
}

function file(f: NodeFile): Json {
  return {
    path: f.path,
    mode: f.mode,
    overwrite: true,
    contents: { source: dataUrl(f.content) },
    ...(f.owner
      ? { user: { name: f.owner.user }, ...(f.owner.group ? { group: { name: f.owner.group } } : {}) }
      : {}),
  };
}

/** Renders a node configuration as an Ignition config (JSON), merged with the user's own when given. */
export function renderIgnition(config: NodeConfig, extra?: string): string {
  const keys = config.ssh.authorizedKeys;
  const own: Json = {
    ignition: { version: IGNITION_VERSION },
    ...(keys.length > 0
      ? {
          passwd: {
            users: [{ name: config.ssh.user ?? IGNITION_DEFAULT_USER, sshAuthorizedKeys: [...keys] }],
          },
        }
      : {}),
    storage: {
      files: [
        ...config.files.map(file),
        ...config.downloads.map((d) => ({
          path: d.path,
          mode: d.mode,
          overwrite: true,
          contents: { source: d.url, verification: { hash: `sha256-${d.sha256}` } },
        })),
      ],
    },
    systemd: {
      units: config.units.map((u) => ({
        name: u.name,
        enabled: u.enabled,
        ...(u.contents === undefined ? {} : { contents: u.contents }),
        ...(u.dropIns.length > 0
          ? { dropins: u.dropIns.map((d) => ({ name: d.name, contents: d.contents })) }
          : {}),
      })),
    },
  };
  const merged = extra === undefined ? own : mergeIgnition(own, readIgnitionInput(extra));
  return `${JSON.stringify(merged, null, 2)}\n`;
}

/**
 * Reads a user's own Ignition config (JSON or YAML with `ignition.version`) or a Butane-like YAML
 * document (`variant` and `version`, snake_case keys, `contents.inline`) into Ignition's shape.
 * Butane's local-file references need Butane's files directory and are refused.
 */
export function readIgnitionInput(text: string): Json {
  const doc = loadYaml(text, "extra.ignition", { schema: YAML11_SCHEMA });
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new BootstrapInputError(
      "extra.ignition",
      "must be an Ignition config or a Butane-like YAML mapping",
    );
  }
  const obj = doc as Json;
  const ignition = obj.ignition as Json | undefined;
  if (typeof ignition?.version === "string") {
    if (!/^3\.\d+\.\d+(-experimental)?$/.test(ignition.version)) {
      throw new BootstrapInputError(
        "extra.ignition.ignition.version",
        "must be an Ignition 3.x spec version",
      );
    }
    return obj;
  }
  if (typeof obj.variant === "string" && typeof obj.version === "string") {
    const rest = Object.fromEntries(Object.entries(obj).filter(([k]) => k !== "variant" && k !== "version"));
    return butaneToIgnition(rest, "extra.ignition") as Json;
  }
  throw new BootstrapInputError(
    "extra.ignition",
    "must have ignition.version (an Ignition config) or variant and version (Butane-like YAML)",
  );
}

const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const REFUSED = new Set(["local", "contents_local", "ssh_authorized_keys_local", "trees"]);

/** Butane's sugar → Ignition: snake_case keys to camelCase, `inline` contents to data URLs. */
function butaneToIgnition(value: unknown, field: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => butaneToIgnition(v, `${field}[${i}]`));
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value as Json)) {
    const at = `${field}.${key}`;
    if (REFUSED.has(key))
      throw new BootstrapInputError(at, "refers to local files; inline the content instead");
    if (key === "inline") {
      if (typeof v !== "string") throw new BootstrapInputError(at, "must be a string");
      out.source = dataUrl(v);
    } else {
      out[camel(key)] = butaneToIgnition(v, at);
    }
  }
  return out;
}

const KEYS = ["path", "name", "device"] as const;
const keyOf = (item: unknown): string | undefined => {
  if (typeof item !== "object" || item === null) return undefined;
  for (const k of KEYS) {
    const v = (item as Json)[k];
    if (typeof v === "string") return `${k}=${v}`;
  }
  return undefined;
};

/**
 * Merges a child config into sprout's, as Ignition merges configs: objects field by field; list
 * entries with the same path, name or device merge (the child's fields win); other entries append.
 */
export function mergeIgnition(parent: Json, child: Json): Json {
  const version = (child.ignition as Json | undefined)?.version;
  const merged = mergeValue(parent, child) as Json;
  const target = typeof version === "string" && NEWER_VERSIONS.includes(version) ? version : IGNITION_VERSION;
  merged.ignition = { ...(merged.ignition as Json), version: target };
  return merged;
}

function mergeValue(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return mergeList(a, b);
  if (isObject(a) && isObject(b)) {
    const out: Json = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? mergeValue(a[k], v) : v;
    return out;
  }
  return b;
}

function mergeList(a: unknown[], b: unknown[]): unknown[] {
  const out = [...a];
  for (const item of b) {
    const key = keyOf(item);
    const at = key === undefined ? -1 : out.findIndex((x) => keyOf(x) === key);
    if (at >= 0) out[at] = mergeValue(out[at], item);
    else if (key !== undefined || !out.some((x) => JSON.stringify(x) === JSON.stringify(item)))
      out.push(item);
  }
  return out;
}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
