import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { dump, loadAll } from "js-yaml";
import { Placeholders, SecretKeys } from "../api/constants.ts";
import { MachineResources } from "../api/resources.ts";
import type { MachineClass } from "../api/v1alpha1/machineclass.ts";
import { parseWorkerPool, type WorkerPool } from "../bootstrap/model.ts";
import { fillPlaceholder } from "../bootstrap/placeholders.ts";
import { readUserData } from "../bootstrap/read.ts";
import { isUserDataFormat, renderWorkerUserData, USER_DATA_FORMATS } from "../bootstrap/render.ts";
import { loadTemplates } from "../bootstrap/templates.ts";
import { KubeClient } from "../runtime/client/client.ts";
import { Resources } from "../runtime/client/resources.ts";

export const USER_DATA_USAGE = `usage: sprout user-data (--pool FILE | --machine-class NAME | --file MANIFESTS) [flags]

Prints the user data a machine gets, so it can be inspected before any machine exists.

sources (one):
  --pool FILE            a worker pool (docs/bootstrap.md), rendered by sprout
  --machine-class NAME   a MachineClass in the cluster: its Secret's userData
  --file MANIFESTS       a YAML file with a MachineClass and its Secret(s); --machine-class picks one

flags:
  --format F             cloud-config (default), ignition or multipart (--pool only)
  --part FILE            add a user-data part after sprout's (multipart; repeatable)
  --ignition FILE        merge an Ignition config or Butane-like YAML into sprout's (ignition)
  --machine NAME         fill <<MACHINE_NAME>> as for that machine (<<BOOTSTRAP_TOKEN>> stays:
                         each machine gets its own token when it is created)
  --output O             raw (default): the user data; files: each file it writes, decoded;
                         secret: a Secret manifest for a MachineClass's secretRef (--pool only)
  --secret-name NAME     name of that Secret (default: <pool name>-user-data)
  --namespace NS         namespace of the MachineClass or Secret (default: default)
  --kubeconfig PATH      cluster of --machine-class ($KUBECONFIG or ~/.kube/config by default)
`;

/** What `sprout user-data` was asked for. */
export interface UserDataRequest {
  readonly pool?: string;
  readonly machineClass?: string;
  readonly file?: string;
  readonly format: string;
  readonly parts: readonly string[];
  readonly ignition?: string;
  readonly machine?: string;
  readonly output: string;
  readonly secretName?: string;
  readonly namespace: string;
  readonly kubeconfig?: string;
}

const OPTIONS = {
  pool: { type: "string" },
  "machine-class": { type: "string" },
  file: { type: "string" },
  format: { type: "string" },
  part: { type: "string", multiple: true },
  ignition: { type: "string" },
  machine: { type: "string" },
  output: { type: "string" },
  "secret-name": { type: "string" },
  namespace: { type: "string" },
  kubeconfig: { type: "string" },
  help: { type: "boolean" },
} as const;

/** `sprout user-data`: prints what a machine gets. User data goes to stdout only, never to a log. */
export async function runUserData(args: string[]): Promise<number> {
  const { values: v } = parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true });
  if (v.help) {
    process.stdout.write(USER_DATA_USAGE);
    return 0;
  }
  const opt = (value: string | undefined, key: string): Record<string, string> =>
    value === undefined ? {} : { [key]: value };
  process.stdout.write(
    await userDataOutput({
      ...opt(v.pool, "pool"),
      ...opt(v["machine-class"], "machineClass"),
      ...opt(v.file, "file"),
      format: v.format ?? "cloud-config",
      parts: v.part ?? [],
      ...opt(v.ignition, "ignition"),
      ...opt(v.machine, "machine"),
      output: v.output ?? "raw",
      ...opt(v["secret-name"], "secretName"),
      namespace: v.namespace ?? "default",
      ...opt(v.kubeconfig, "kubeconfig"),
    }),
  );
  return 0;
}

function checkRequest(r: UserDataRequest): void {
  const sources = [r.pool, r.file, r.file ? undefined : r.machineClass].filter(Boolean);
  if (sources.length !== 1)
    throw new Error(`give one of --pool, --machine-class or --file\n\n${USER_DATA_USAGE}`);
  if (!["raw", "files", "secret"].includes(r.output)) {
    throw new Error(`--output=${r.output}: must be raw, files or secret`);
  }
  if (r.pool) {
    if (!isUserDataFormat(r.format)) {
      throw new Error(`--format=${r.format}: must be one of ${USER_DATA_FORMATS.join(", ")}`);
    }
    return;
  }
  if (r.parts.length > 0 || r.ignition) throw new Error("--part and --ignition apply to --pool only");
  if (r.output === "secret") throw new Error("--output=secret applies to --pool only");
}

/** The text `sprout user-data` prints for a request. */
export async function userDataOutput(r: UserDataRequest): Promise<string> {
  checkRequest(r);
  const pool = r.pool ? await poolFrom(r.pool, r) : undefined;
  let userData =
    pool && isUserDataFormat(r.format)
      ? renderWorkerUserData(pool, r.format, await loadTemplates())
      : r.file
        ? await fromManifests(r.file, r.machineClass)
        : await fromCluster(r);
  if (r.machine) userData = fillPlaceholder(userData, Placeholders.machineName, r.machine);
  if (r.output === "files") return filesView(userData);
  if (r.output === "secret") {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: r.secretName ?? `${pool?.name ?? "worker"}-user-data`, namespace: r.namespace },
      type: "Opaque",
      stringData: { [SecretKeys.userData]: userData },
    };
    return dump(secret, { lineWidth: -1 });
  }
  return userData;
}

async function poolFrom(file: string, r: UserDataRequest): Promise<WorkerPool> {
  const pool = parseWorkerPool(await readFile(file, "utf8"));
  const parts = await Promise.all(
    r.parts.map(async (f) => ({ content: await readFile(f, "utf8"), filename: basename(f) })),
  );
  const ignition = r.ignition === undefined ? pool.extra.ignition : await readFile(r.ignition, "utf8");
  return {
    ...pool,
    extra: { parts: [...pool.extra.parts, ...parts], ...(ignition === undefined ? {} : { ignition }) },
  };
}

/** Each file the user data writes, decoded, as a booting node sees it. */
function filesView(userData: string): string {
  const view = readUserData(userData);
  const out = [`# format: ${view.format}; ${view.files.size} files`];
  for (const [path, bytes] of view.files) {
    const text = bytes.toString("utf8");
    const binary = text.includes("\uFFFD") || bytes.includes(0);
    out.push("", `## ${path}`, binary ? `(${bytes.length} bytes, binary)` : text.replace(/\n$/, ""));
  }
  return `${out.join("\n")}\n`;
}

type SecretObject = {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

/** A Secret's userData (stringData wins, as when the manifest is applied). */
function secretUserData(s: SecretObject): string | undefined {
  const text = s.stringData?.[SecretKeys.userData];
  if (text !== undefined) return text;
  const data = s.data?.[SecretKeys.userData];
  return data === undefined ? undefined : Buffer.from(data, "base64").toString();
}

function userDataOf(className: string, secrets: readonly SecretObject[]): string {
  // credentialsSecretRef's data wins over secretRef's, as for the machine controller.
  const value = secrets.map(secretUserData).reduce((a, b) => b ?? a, undefined);
  if (value === undefined)
    throw new Error(`userData field not found in the Secret of MachineClass ${className}`);
  return value;
}

async function fromManifests(file: string, name: string | undefined): Promise<string> {
  const docs = loadAll(await readFile(file, "utf8")).filter(
    (d): d is Record<string, unknown> => typeof d === "object" && d !== null,
  );
  const classes = docs.filter((d) => d.kind === "MachineClass") as MachineClass[];
  const chosen = name ? classes.filter((c) => c.metadata?.name === name) : classes;
  if (chosen.length !== 1) {
    throw new Error(
      name
        ? `${file} has no MachineClass ${name}`
        : `${file} has ${classes.length} MachineClasses; pick one with --machine-class`,
    );
  }
  const mc = chosen[0] as MachineClass;
  const secrets = docs.filter((d) => d.kind === "Secret") as SecretObject[];
  const refs = [mc.secretRef, mc.credentialsSecretRef].filter((r) => r?.name);
  return userDataOf(
    mc.metadata?.name ?? "",
    refs.map((r) => {
      const s = secrets.find((x) => x.metadata?.name === r?.name);
      if (!s)
        throw new Error(
          `${file} has no Secret ${r?.name ?? ""} (referenced by MachineClass ${mc.metadata?.name ?? ""})`,
        );
      return s;
    }),
  );
}

async function fromCluster(v: UserDataRequest): Promise<string> {
  const kc = new KubeConfig();
  if (v.kubeconfig) kc.loadFromFile(v.kubeconfig);
  else kc.loadFromDefault();
  const client = new KubeClient(kc);
  const name = v.machineClass ?? "";
  const mc = await client.find<MachineClass>(MachineResources.machineClasses, v.namespace, name);
  if (!mc) throw new Error(`MachineClass ${v.namespace}/${name} does not exist`);
  const secrets: SecretObject[] = [];
  for (const ref of [mc.secretRef, mc.credentialsSecretRef]) {
    if (!ref?.name) continue;
    const ns = ref.namespace ?? v.namespace;
    const secret = await client.find<SecretObject & { metadata?: Record<string, unknown> }>(
      Resources.secrets,
      ns,
      ref.name,
    );
    if (!secret)
      throw new Error(`Secret ${ns}/${ref.name} referenced by MachineClass ${name} does not exist`);
    secrets.push(secret);
  }
  return userDataOf(name, secrets);
}
