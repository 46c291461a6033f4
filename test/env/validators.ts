import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { UserDataFormatName } from "../../src/bootstrap/render.ts";
import { ensureTool } from "../../src/localplane/tools.ts";

/**
 * The validators the operating systems use, run over rendered user data: Debian's cloud-init
 * (`cloud-init schema`, and its own MIME reader for multipart) and Ignition's ignition-validate
 * (built from hack/tools/ignition). A missing validator is an error, never a skip.
 */

const exec = promisify(execFile);

interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(cmd: string, args: readonly string[], input?: string): Promise<Output> {
  try {
    const child = exec(cmd, [...args], { maxBuffer: 16 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === "ENOENT") throw new Error(`${cmd} is not installed`, { cause: err });
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function withFile<T>(name: string, content: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "sprout-validate-"));
  try {
    const path = join(dir, name);
    await writeFile(path, content);
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const CLOUD_INIT_MISSING =
  "cloud-init is not installed: apt-get install --no-install-recommends cloud-init (.ci/run does this)";

async function cloudInitPath(): Promise<string> {
  const out = await run("sh", ["-c", "command -v cloud-init"]);
  const path = out.stdout.trim();
  if (out.code !== 0 || !path) throw new Error(CLOUD_INIT_MISSING);
  return path;
}

/** cloud-init's version line, e.g. "/usr/bin/cloud-init 22.4.2". */
export async function cloudInitVersion(): Promise<string> {
  const out = await run(await cloudInitPath(), ["--version"]);
  return `${out.stdout}${out.stderr}`.trim();
}

/** Validates a #cloud-config document with `cloud-init schema --config-file`; throws its report. */
export async function validateCloudConfig(text: string): Promise<void> {
  const cloudInit = await cloudInitPath();
  const out = await withFile("user-data.yaml", text, (f) => run(cloudInit, ["schema", "--config-file", f]));
  if (out.code !== 0 || !out.stdout.includes("Valid cloud-config")) {
    throw new Error(`cloud-init schema rejected the cloud-config:\n${out.stdout}${out.stderr}`);
  }
}

/** The ignition-validate binary (built from hack/tools/ignition on first use). */
export async function ignitionValidatePath(): Promise<string> {
  return ensureTool("ignition-validate");
}

/** Validates an Ignition config with ignition-validate; any report (error or warning) fails. */
export async function validateIgnition(text: string): Promise<void> {
  const bin = await ignitionValidatePath();
  const out = await withFile("config.ign", text, (f) => run(bin, [f]));
  if (out.code !== 0 || `${out.stdout}${out.stderr}`.trim() !== "") {
    throw new Error(`ignition-validate rejected the config:\n${out.stdout}${out.stderr}`);
  }
}

export interface MimePart {
  readonly type: string;
  readonly filename: string | null;
  readonly mergeType: string | null;
  readonly payload: string;
}

/**
 * Splits user data with cloud-init's own reader (cloudinit.user_data.UserDataProcessor, run by the
 * Python interpreter cloud-init itself uses), as a booting node would.
 */
export async function cloudInitParts(userData: string): Promise<MimePart[]> {
  const cloudInit = await cloudInitPath();
  const python = (await readFile(cloudInit, "utf8"))
    .split("\n")[0]
    ?.replace(/^#!\s*/, "")
    .trim();
  if (!python) throw new Error(CLOUD_INIT_MISSING);
  const script = [
    "import json, sys",
    "from cloudinit import user_data",
    "msg = user_data.UserDataProcessor({}).process(open(sys.argv[1], 'rb').read())",
    "parts = []",
    "for p in msg.walk():",
    "    if p.is_multipart(): continue",
    "    parts.append({'type': p.get_content_type(), 'filename': p.get_filename(),",
    "                  'mergeType': p.get('Merge-Type'), 'payload': p.get_payload(decode=True).decode()})",
    "print(json.dumps(parts))",
  ].join("\n");
  const out = await withFile("user-data", userData, (f) => run(python, ["-c", script, f]));
  if (out.code !== 0) throw new Error(`cloud-init could not read the user data:\n${out.stderr}`);
  return JSON.parse(out.stdout) as MimePart[];
}

/** Checks a shell script's syntax with `sh -n` (dash on Debian). */
export async function validateShellScript(text: string): Promise<void> {
  const out = await withFile("script.sh", text, (f) => run("sh", ["-n", f]));
  if (out.code !== 0) throw new Error(`sh -n rejected the script:\n${out.stderr}`);
}

/** Validates user data of any format with the real tools; returns what cloud-init saw for multipart. */
export async function validateUserData(text: string, format: UserDataFormatName): Promise<MimePart[]> {
  if (format === "cloud-config") {
    await validateCloudConfig(text);
    return [];
  }
  if (format === "ignition") {
    await validateIgnition(text);
    return [];
  }
  const parts = await cloudInitParts(text);
  if (parts.length === 0) throw new Error("cloud-init found no parts in the multipart user data");
  for (const part of parts) {
    if (part.type === "text/cloud-config") await validateCloudConfig(part.payload);
    else if (part.type === "text/x-shellscript") await validateShellScript(part.payload);
    else throw new Error(`no validator for part type ${part.type}`);
  }
  return parts;
}
