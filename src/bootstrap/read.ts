import { gunzipSync } from "node:zlib";
import { load } from "js-yaml";
import { CLOUD_CONFIG_HEADER } from "./cloud-config.ts";

/**
 * Reads user data the way a node's first boot would: cloud-config, Ignition or MIME multipart (and
 * gzip-compressed user data), and returns the files it writes and the parts it runs. Used to inspect
 * what a machine gets and by the node simulator to boot a virtual machine. Never throws on odd
 * input: what cannot be read is left out.
 */

export type UserDataFormat = "cloud-config" | "ignition" | "multipart" | "script" | "unknown";

export interface UserDataView {
  readonly format: UserDataFormat;
  /** Files written, by path (a later write wins). */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Every part's text (scripts, cloud-configs, Ignition configs), for content no file carries. */
  readonly texts: readonly string[];
}

interface Collector {
  files: Map<string, Buffer>;
  texts: string[];
}

const GZIP = (b: Buffer): boolean => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

function ungzip(b: Buffer): Buffer {
  try {
    return GZIP(b) ? gunzipSync(b) : b;
  } catch {
    return b;
  }
}

export function readUserData(data: string | Buffer): UserDataView {
  const c: Collector = { files: new Map(), texts: [] };
  const format = readPart(ungzip(Buffer.isBuffer(data) ? data : Buffer.from(data)), c, 0);
  return { format, files: c.files, texts: c.texts };
}

function readPart(raw: Buffer, c: Collector, depth: number): UserDataFormat {
  const text = raw.toString("utf8");
  const head = text.slice(0, 4096).toLowerCase();
  if (depth < 4 && head.includes("mime-version:") && /content-type:\s*multipart\//.test(head)) {
    for (const part of mimeParts(text)) readPart(ungzip(part), c, depth + 1);
    return "multipart";
  }
  c.texts.push(text);
  if (text.startsWith(CLOUD_CONFIG_HEADER)) {
    readCloudConfig(text, c);
    return "cloud-config";
  }
  if (text.trimStart().startsWith("{")) {
    if (readIgnition(text, c, depth)) return "ignition";
  }
  return text.startsWith("#!") ? "script" : "unknown";
}

/** The parts of a multipart/mixed message, decoded (base64, quoted-printable, 7bit, 8bit). */
export function mimeParts(message: string): Buffer[] {
  const { headers, body } = splitHeaders(message);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers.get("content-type") ?? "")?.[1];
  if (!boundary) return [];
  const out: Buffer[] = [];
  const chunks = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith("--")) break;
    const part = splitHeaders(chunk.replace(/^[^\n]*\n/, ""));
    const type = part.headers.get("content-type") ?? "";
    if (/^multipart\//i.test(type)) {
      out.push(...mimeParts(chunk.replace(/^[^\n]*\n/, "")));
      continue;
    }
    out.push(decodeBody(part.body, part.headers.get("content-transfer-encoding") ?? "7bit"));
  }
  return out;
}

function splitHeaders(text: string): { headers: Map<string, string>; body: string } {
  const end = /\r?\n\r?\n/.exec(text);
  const head = end ? text.slice(0, end.index) : text;
  const body = end ? text.slice(end.index + end[0].length) : "";
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64");
    case "quoted-printable":
      return Buffer.from(
        body
          .replace(/=\r?\n/g, "")
          .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        "latin1",
      );
    default:
      return Buffer.from(body, "utf8");
  }
}

type WriteFile = { path?: unknown; content?: unknown; encoding?: unknown; append?: unknown };

function readCloudConfig(text: string, c: Collector): void {
  let doc: unknown;
  try {
    doc = load(text);
  } catch {
    return;
  }
  const files = (doc as { write_files?: unknown } | null)?.write_files;
  if (!Array.isArray(files)) return;
  for (const f of files as WriteFile[]) {
    if (typeof f.path !== "string") continue;
    const content = writeFileContent(f);
    if (!content) continue;
    const before = f.append === true ? c.files.get(f.path) : undefined;
    c.files.set(f.path, before ? Buffer.concat([before, content]) : content);
  }
}

function writeFileContent(f: WriteFile): Buffer | undefined {
  const encoding = typeof f.encoding === "string" ? f.encoding.toLowerCase() : "text/plain";
  const raw = f.content ?? "";
  const gz = encoding.startsWith("gz");
  // YAML's !!binary gives bytes; everything else cloud-init reads is a string.
  if (raw instanceof Uint8Array) return gz ? ungzip(Buffer.from(raw)) : Buffer.from(raw);
  if (typeof raw !== "string") return undefined;
  if (["b64", "base64"].includes(encoding)) return Buffer.from(raw, "base64");
  if (gz && /b(ase)?64$/.test(encoding)) return ungzip(Buffer.from(raw, "base64"));
  if (gz) return ungzip(Buffer.from(raw, "latin1"));
  return Buffer.from(raw, "utf8");
}

/** The bytes of an RFC 2397 data URL, or undefined for any other URL. */
export function decodeDataUrl(url: string): Buffer | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma);
  const data = url.slice(comma + 1);
  try {
    return meta.endsWith(";base64")
      ? Buffer.from(decodeURIComponent(data), "base64")
      : Buffer.from(decodeURIComponent(data), "utf8");
  } catch {
    return undefined;
  }
}

type IgnitionFile = { path?: unknown; contents?: { source?: unknown; compression?: unknown } };
type IgnitionDoc = {
  ignition?: { version?: unknown; config?: { merge?: unknown; replace?: unknown } };
  storage?: { files?: unknown };
};

function parseIgnition(text: string): IgnitionDoc | undefined {
  try {
    const doc = JSON.parse(text) as IgnitionDoc | null;
    return typeof doc?.ignition?.version === "string" ? doc : undefined;
  } catch {
    return undefined;
  }
}

function readIgnition(text: string, c: Collector, depth: number): boolean {
  const doc = parseIgnition(text);
  if (!doc) return false;
  const files = Array.isArray(doc.storage?.files) ? (doc.storage.files as IgnitionFile[]) : [];
  for (const f of files) readIgnitionFile(f, c);
  // Configs merged in (ignition.config.merge / replace) come after, as Ignition applies them.
  if (depth < 4) {
    for (const bytes of nestedConfigs(doc)) readPart(bytes, c, depth + 1);
  }
  return true;
}

function readIgnitionFile(f: IgnitionFile, c: Collector): void {
  const source = f.contents?.source;
  const bytes = typeof source === "string" ? decodeDataUrl(source) : undefined;
  if (typeof f.path === "string" && bytes) {
    c.files.set(f.path, f.contents?.compression === "gzip" ? ungzip(bytes) : bytes);
  }
}

function nestedConfigs(doc: IgnitionDoc): Buffer[] {
  const config = doc.ignition?.config;
  const merge: unknown[] = Array.isArray(config?.merge) ? (config.merge as unknown[]) : [];
  const refs = [...merge, config?.replace] as ({ source?: unknown } | undefined)[];
  return refs
    .map((ref) => (typeof ref?.source === "string" ? decodeDataUrl(ref.source) : undefined))
    .filter((b): b is Buffer => b !== undefined);
}
