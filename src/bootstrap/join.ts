import { load } from "js-yaml";
import { NodePaths } from "./paths.ts";
import { hasTokenPlaceholder } from "./placeholders.ts";
import type { UserDataView } from "./read.ts";

/** A bootstrap token as the apiserver accepts it: `<6 chars id>.<16 chars secret>`. */
export const BOOTSTRAP_TOKEN_PATTERN = /\b([a-z0-9]{6})\.([a-z0-9]{16})\b/;

export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

/** What a kubelet booted from this user data would use to join. */
export interface NodeJoin {
  /** Where the join settings came from (a file path, or "user data" for a token found in a script). */
  readonly source: string;
  /** The bootstrap token; undefined when the user data names none (empty, or the placeholder left). */
  readonly token?: string;
  /** The apiserver from the bootstrap kubeconfig, if it names one. */
  readonly server?: string;
  /** The cluster CA (PEM) the bootstrap kubeconfig trusts, if it gives one. */
  readonly caPem?: string;
  /** Node labels of --node-labels (kubelet.env) and registerWithTaints (kubelet config). */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly NodeTaint[];
}

type Kubeconfig = {
  kind?: unknown;
  "current-context"?: unknown;
  clusters?: { name?: unknown; cluster?: Record<string, unknown> }[];
  users?: { name?: unknown; user?: Record<string, unknown> }[];
  contexts?: { name?: unknown; context?: { cluster?: unknown; user?: unknown } }[];
};

function parse(text: string): unknown {
  try {
    return load(text);
  } catch {
    return undefined;
  }
}

function bootstrapKubeconfig(view: UserDataView): { path: string; config: Kubeconfig } | undefined {
  const preferred = view.files.get(NodePaths.bootstrapKubeconfig);
  const candidates: [string, Buffer][] = preferred
    ? [[NodePaths.bootstrapKubeconfig, preferred]]
    : [...view.files].filter(([p]) => /kubeconfig|\.conf$|\.ya?ml$/.test(p));
  for (const [path, bytes] of candidates) {
    const config = parse(bytes.toString("utf8")) as Kubeconfig | undefined;
    if (
      config?.kind === "Config" &&
      Array.isArray(config.users) &&
      config.users.some((u) => u.user && "token" in u.user)
    ) {
      return { path, config };
    }
  }
  return undefined;
}

/** The user and cluster of the current context (else the first of each). */
function currentContext(config: Kubeconfig): {
  user: Record<string, unknown>;
  cluster: Record<string, unknown>;
} {
  const users = config.users ?? [];
  const clusters = config.clusters ?? [];
  const context = config.contexts?.find((c) => c.name === config["current-context"])?.context;
  const user = users.find((u) => u.name === context?.user) ?? users[0];
  const cluster = clusters.find((c) => c.name === context?.cluster) ?? clusters[0];
  return { user: user?.user ?? {}, cluster: cluster?.cluster ?? {} };
}

function caOf(view: UserDataView, cluster: Record<string, unknown>): string | undefined {
  const data = cluster["certificate-authority-data"];
  if (typeof data === "string") return Buffer.from(data, "base64").toString("utf8");
  const file = cluster["certificate-authority"];
  return typeof file === "string" ? view.files.get(file)?.toString("utf8") : undefined;
}

function fromKubeconfig(
  view: UserDataView,
  path: string,
  config: Kubeconfig,
): Omit<NodeJoin, "labels" | "taints"> {
  const { user, cluster } = currentContext(config);
  const token = typeof user.token === "string" ? BOOTSTRAP_TOKEN_PATTERN.exec(user.token)?.[0] : undefined;
  const caPem = caOf(view, cluster);
  const server = cluster.server;
  return {
    source: path,
    ...(token ? { token } : {}),
    ...(typeof server === "string" ? { server } : {}),
    ...(caPem ? { caPem } : {}),
  };
}

function labelsOf(view: UserDataView): Record<string, string> {
  const env = view.files.get(NodePaths.kubeletEnv)?.toString("utf8") ?? "";
  const line =
    /^KUBELET_NODE_LABELS=(.*)$/m
      .exec(env)?.[1]
      ?.trim()
      .replace(/^"(.*)"$/, "$1") ?? "";
  const labels: Record<string, string> = {};
  for (const pair of line.split(",").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

function taintsOf(view: UserDataView): NodeTaint[] {
  const config = parse(view.files.get(NodePaths.kubeletConfig)?.toString("utf8") ?? "") as
    { registerWithTaints?: unknown } | undefined;
  const taints = config?.registerWithTaints;
  if (!Array.isArray(taints)) return [];
  return (taints as Partial<NodeTaint>[])
    .filter((t) => typeof t.key === "string" && typeof t.effect === "string")
    .map((t) => ({
      key: t.key ?? "",
      effect: t.effect ?? "",
      ...(typeof t.value === "string" ? { value: t.value } : {}),
    }));
}

/**
 * The join settings in user data: the bootstrap kubeconfig (sprout's path, or any kubeconfig file
 * with a token user), else a bootstrap token anywhere in the parts (e.g. a `kubeadm join --token`
 * script). Undefined when the user data carries neither.
 */
export function nodeJoinOf(view: UserDataView): NodeJoin | undefined {
  const extras = { labels: labelsOf(view), taints: taintsOf(view) };
  const kubeconfig = bootstrapKubeconfig(view);
  if (kubeconfig) return { ...fromKubeconfig(view, kubeconfig.path, kubeconfig.config), ...extras };
  for (const text of view.texts) {
    const token = BOOTSTRAP_TOKEN_PATTERN.exec(text)?.[0];
    if (token) return { source: "user data", token, ...extras };
  }
  // The placeholder left in place: the machine was meant to join with a token it never got.
  return view.texts.some(hasTokenPlaceholder) ? { source: "user data", ...extras } : undefined;
}
