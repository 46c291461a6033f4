import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import { load } from "js-yaml";
import { DNS_LABEL_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from "../api/labels.ts";

/**
 * The worker pool model: everything a worker node's operating system needs to run a kubelet that
 * joins the cluster. One model renders into every user-data format (cloud-config, Ignition, MIME
 * multipart); nothing in it is specific to a cloud, so the same pool describes a bare-metal node.
 */

export const BOOTSTRAP_API_VERSION = "bootstrap.sprout.gardener.cloud/v1alpha1";
export const WORKER_POOL_KIND = "WorkerPool";

const DNS_LABEL = DNS_LABEL_PATTERN;
const LABEL_KEY = LABEL_KEY_PATTERN;
/** A value safe inside a systemd unit, an environment file and a YAML or TOML string. */
const PLAIN = "^[^\\s\"'`$%\\\\]+$";
const ABSOLUTE_PATH = "^/[^\\s\"'`$%\\\\]*[^/\\s]$";

const str = (pattern: string, errorMessage: string, extra: Record<string, unknown> = {}) =>
  Type.String({ pattern, errorMessage, ...extra });
const path = (description: string) => str(ABSOLUTE_PATH, "must be an absolute file path", { description });
const url = (description: string) =>
  str("^https?://[^\\s\"'`$%\\\\]+$", "must be an http(s) URL without spaces or quotes", { description });
const strict = { additionalProperties: false } as const;

const Taint = Type.Object(
  {
    key: str(LABEL_KEY, "must be a qualified name such as example.com/dedicated"),
    value: Type.Optional(
      str(LABEL_VALUE_PATTERN, "must be a label value (63 characters at most)", {
        maxLength: 63,
      }),
    ),
    effect: Type.Union(
      [Type.Literal("NoSchedule"), Type.Literal("PreferNoSchedule"), Type.Literal("NoExecute")],
      {
        errorMessage: "must be NoSchedule, PreferNoSchedule or NoExecute",
      },
    ),
  },
  strict,
);

const File = Type.Object(
  {
    path: path("Where the file is written."),
    content: Type.Optional(Type.String({ description: "Text content." })),
    contentBase64: Type.Optional(
      str("^[A-Za-z0-9+/]*={0,2}$", "must be base64", { description: "Binary content, base64-encoded." }),
    ),
    permissions: Type.String({
      pattern: "^0?[0-7]{3,4}$",
      errorMessage: "must be an octal mode such as 0644",
      default: "0644",
    }),
    owner: Type.Optional(
      str("^[a-z_][-a-z0-9_]*(:[a-z_][-a-z0-9_]*)?$", "must be user or user:group", {
        description: "user or user:group; root:root when unset.",
      }),
    ),
  },
  strict,
);

const UNIT_NAME = "^[A-Za-z0-9:_.@-]+\\.(service|socket|timer|mount|path|target|slice)$";
const DropIn = Type.Object(
  {
    name: str("^[A-Za-z0-9:_.@-]+\\.conf$", "must be a file name ending in .conf"),
    content: Type.String(),
  },
  strict,
);
const Unit = Type.Object(
  {
    name: str(UNIT_NAME, "must be a systemd unit name such as example.service"),
    content: Type.Optional(Type.String({ description: "The unit file; unset for a unit the image has." })),
    enabled: Type.Boolean({ default: true }),
    dropIns: Type.Array(DropIn, { default: [] }),
  },
  strict,
);

const Part = Type.Object(
  {
    content: Type.String({ description: "The part, starting with #cloud-config, #!, #include, …" }),
    contentType: Type.Optional(
      str("^[a-z]+/[-a-z0-9.+]+$", "must be a MIME type such as text/x-shellscript", {
        description: "Detected from the first line (as cloud-init does) when unset.",
      }),
    ),
    filename: Type.Optional(str("^[A-Za-z0-9_.-]+$", "must be a plain file name")),
  },
  strict,
);

export const WorkerPoolSchema = Type.Object(
  {
    apiVersion: Type.Literal(BOOTSTRAP_API_VERSION, { errorMessage: `must be ${BOOTSTRAP_API_VERSION}` }),
    kind: Type.Literal(WORKER_POOL_KIND, { errorMessage: `must be ${WORKER_POOL_KIND}` }),
    name: str(`^${DNS_LABEL}$`, "must be a DNS label (lower-case letters, digits, -)", {
      maxLength: 63,
      description: "Pool name; Nodes get the label worker.gardener.cloud/pool=<name>.",
    }),
    cluster: Type.Object(
      {
        server: url("The apiserver URL the kubelet joins."),
        caPem: str(
          "^-----BEGIN CERTIFICATE-----[\\s\\S]+-----END CERTIFICATE-----\\s*$",
          "must be a PEM certificate (-----BEGIN CERTIFICATE-----)",
          { description: "The cluster CA the kubelet trusts (PEM)." },
        ),
        dnsIPs: Type.Array(
          str("^[0-9a-fA-F:.]+$", "must be an IP address", { description: "clusterDNS of the kubelet." }),
          { default: [] },
        ),
        domain: str(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`, "must be a DNS domain such as cluster.local", {
          default: "cluster.local",
        }),
      },
      strict,
    ),
    kubelet: Type.Object(
      {
        path: Type.String({
          pattern: ABSOLUTE_PATH,
          errorMessage: "must be an absolute file path",
          default: "/opt/bin/kubelet",
        }),
        download: Type.Optional(
          Type.Object(
            {
              url: url("Where the kubelet binary is fetched at first boot."),
              sha256: str("^[0-9a-f]{64}$", "must be 64 lower-case hex digits"),
            },
            strict,
          ),
        ),
        labels: Type.Record(
          Type.String(),
          str(LABEL_VALUE_PATTERN, "must be a label value (63 characters at most)", {
            maxLength: 63,
          }),
          { default: {} },
        ),
        taints: Type.Array(Taint, { default: [] }),
        config: Type.Record(Type.String(), Type.Unknown(), {
          default: {},
          description: "KubeletConfiguration fields merged over cloud-init/kubelet/config.yaml.",
        }),
        extraArgs: Type.Array(
          str("^--[a-z0-9-]+(=[^\\s\"'`$%\\\\]*)?$", "must be one flag such as --v=2 (no spaces or quotes)"),
          { default: [] },
        ),
      },
      { ...strict, default: {} },
    ),
    containerd: Type.Object(
      {
        configVersion: Type.Union([Type.Literal(2), Type.Literal(3)], {
          default: 2,
          errorMessage: "must be 2 (containerd 1.7 and 2.x) or 3 (containerd 2.x)",
        }),
        sandboxImage: str(PLAIN, "must be an image reference", { default: "registry.k8s.io/pause:3.10" }),
        registries: Type.Array(
          Type.Object(
            {
              host: str("^[a-z0-9.-]+(:[0-9]+)?$", "must be a registry host such as docker.io"),
              server: Type.Optional(url("The registry itself; https://<host> when unset.")),
              mirrors: Type.Array(url("A mirror tried before the registry."), { minItems: 1 }),
            },
            strict,
          ),
          { default: [] },
        ),
      },
      { ...strict, default: {} },
    ),
    os: Type.Object(
      {
        sysctls: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { default: {} }),
        kernelModules: Type.Array(str("^[A-Za-z0-9_-]+$", "must be a kernel module name"), { default: [] }),
        proxy: Type.Optional(
          Type.Object(
            {
              http: Type.Optional(url("Proxy for http:// requests.")),
              https: Type.Optional(url("Proxy for https:// requests.")),
              noProxy: Type.Array(str(PLAIN, "must be a host, domain or CIDR"), { default: [] }),
            },
            strict,
          ),
        ),
        ssh: Type.Object(
          {
            user: Type.Optional(str("^[a-z_][-a-z0-9_]*$", "must be a user name")),
            authorizedKeys: Type.Array(
              str(
                "^(ssh|ecdsa|sk)-[-a-z0-9@.]+ [A-Za-z0-9+/=]+( .*)?$",
                "must be an OpenSSH public key line",
              ),
              { default: [] },
            ),
          },
          { ...strict, default: {} },
        ),
        files: Type.Array(File, { default: [] }),
        units: Type.Array(Unit, { default: [] }),
      },
      { ...strict, default: {} },
    ),
    extra: Type.Object(
      {
        parts: Type.Array(Part, {
          default: [],
          description: "Multipart format only: user-data parts after sprout's cloud-config.",
        }),
        ignition: Type.Optional(
          Type.String({
            description: "Ignition format only: an Ignition config or Butane-like YAML merged into sprout's.",
          }),
        ),
      },
      { ...strict, default: {} },
    ),
  },
  strict,
);

export type WorkerPool = Static<typeof WorkerPoolSchema>;
export type WorkerPoolFile = WorkerPool["os"]["files"][number];
export type WorkerPoolUnit = WorkerPool["os"]["units"][number];
export type UserDataPart = WorkerPool["extra"]["parts"][number];

/** Invalid input; the message names the field (e.g. `kubelet.taints[0].effect: must be …`). */
export class BootstrapInputError extends Error {
  override readonly name = "BootstrapInputError";
  readonly field: string;

  constructor(field: string, problem: string) {
    super(field ? `${field}: ${problem}` : problem);
    this.field = field;
  }
}

/** `/kubelet/taints/0/effect` → `kubelet.taints[0].effect`. */
export function fieldPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

/** Checks a value against a schema; throws a BootstrapInputError naming the first bad field. */
export function checkSchema<T extends TSchema>(schema: T, value: unknown, prefix = ""): Static<T> {
  const withDefaults = Value.Default(schema, Value.Clone(value)) as Static<T>;
  const first = Value.Errors(schema, withDefaults).First();
  if (!first) return withDefaults;
  const hint = (first.schema as { errorMessage?: unknown }).errorMessage;
  const field = [prefix, fieldPath(first.path)].filter(Boolean).join(".");
  const problem =
    first.type === ValueErrorType.ObjectAdditionalProperties
      ? "unknown field"
      : first.type === ValueErrorType.ObjectRequiredProperty
        ? "is required"
        : typeof hint === "string"
          ? hint
          : first.message.charAt(0).toLowerCase() + first.message.slice(1);
  throw new BootstrapInputError(field, problem);
}

/**
 * Label keys a kubelet may set on its own Node in the kubernetes.io and k8s.io namespaces (the
 * kubelet refuses to start with any other such key in --node-labels, and NodeRestriction rejects it).
 */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/instance-type",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "node.kubernetes.io/instance-type",
]);
const KUBELET_LABEL_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

/** Why a kubelet would refuse this node label, or undefined when it is fine. */
export function kubeletLabelProblem(key: string): string | undefined {
  if (!new RegExp(LABEL_KEY).test(key) || key.length > 317) {
    return "must be a qualified name such as example.com/role";
  }
  const prefix = key.includes("/") ? (key.split("/")[0] ?? "") : "";
  const reserved = ["kubernetes.io", "k8s.io"].some((ns) => prefix === ns || prefix.endsWith(`.${ns}`));
  if (!reserved || KUBELET_LABELS.has(key)) return undefined;
  if (KUBELET_LABEL_NAMESPACES.some((ns) => prefix === ns || prefix.endsWith(`.${ns}`))) return undefined;
  return "a kubelet may not set labels in the kubernetes.io and k8s.io namespaces other than its own (the Node would never register)";
}

function unique<T>(items: readonly T[], keyOf: (item: T) => string, field: string, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (seen.has(key)) throw new BootstrapInputError(`${field}[${i}]`, `duplicate ${what} ${key}`);
    seen.add(key);
  });
}

/** Checks what the schema cannot express. */
function checkSemantics(pool: WorkerPool): void {
  for (const key of Object.keys(pool.kubelet.labels)) {
    const problem = kubeletLabelProblem(key);
    if (problem) throw new BootstrapInputError(`kubelet.labels["${key}"]`, problem);
  }
  for (const key of ["apiVersion", "kind"]) {
    if (key in pool.kubelet.config) {
      throw new BootstrapInputError(`kubelet.config.${key}`, "is set by sprout; leave it out");
    }
  }
  for (const key of Object.keys(pool.os.sysctls)) {
    if (!/^[a-z0-9_]+([./][-a-z0-9_]+)+$/.test(key)) {
      throw new BootstrapInputError(
        `os.sysctls["${key}"]`,
        "must be a sysctl name such as net.ipv4.ip_forward",
      );
    }
  }
  pool.os.files.forEach((f, i) => {
    if (f.content !== undefined && f.contentBase64 !== undefined) {
      throw new BootstrapInputError(`os.files[${i}]`, "set content or contentBase64, not both");
    }
  });
  unique(pool.os.files, (f) => f.path, "os.files", "path");
  unique(pool.os.units, (u) => u.name, "os.units", "unit");
  pool.os.units.forEach((u, i) => unique(u.dropIns, (d) => d.name, `os.units[${i}].dropIns`, "drop-in"));
  unique(pool.containerd.registries, (r) => r.host, "containerd.registries", "registry");
}

/** Validates a worker pool (an object, e.g. parsed YAML), filling defaults. */
export function validateWorkerPool(input: unknown): WorkerPool {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new BootstrapInputError("", "a worker pool must be an object");
  }
  const pool = checkSchema(WorkerPoolSchema, input);
  checkSemantics(pool);
  return pool;
}

/** Parses and validates a worker pool written as YAML (or JSON). */
export function parseWorkerPool(text: string): WorkerPool {
  return validateWorkerPool(loadYaml(text, "worker pool"));
}

/**
 * Loads YAML; a syntax error names the line but never quotes the text (user data may hold secrets).
 */
export function loadYaml(text: string, what: string, options: Parameters<typeof load>[1] = {}): unknown {
  try {
    return load(text, options);
  } catch (err) {
    const e = err as { reason?: unknown; mark?: { line?: unknown } };
    const line = typeof e.mark?.line === "number" ? ` at line ${e.mark.line + 1}` : "";
    const reason = typeof e.reason === "string" ? `: ${e.reason}` : "";
    throw new BootstrapInputError("", `${what} is not valid YAML${line}${reason}`);
  }
}
