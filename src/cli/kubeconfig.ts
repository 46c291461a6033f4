import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { load } from "js-yaml";

/** The --control-kubeconfig value that means "the pod's service account", as in MCM. */
export const IN_CLUSTER_CONFIG = "inClusterConfig";

/** Where a pod's service account token and CA are mounted (client-go's rest.InClusterConfig). */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The service account's files are looked up under this folder instead of `/` when set: for a
 * process outside a pod that is given a service account's token and CA (the tests do).
 */
export const IN_CLUSTER_ROOT_ENV = "SPROUT_IN_CLUSTER_ROOT";

/**
 * A kubeconfig as MCM reads one: `inClusterConfig` is the pod's service account
 * (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA); a path is a kubeconfig file, whose
 * users' `tokenFile` is honoured and re-read as the token rotates (Gardener's generic kubeconfig
 * authenticates that way); empty is $KUBECONFIG or ~/.kube/config.
 */
export function loadKubeConfig(flag: string, value: string): KubeConfig {
  const kc = new KubeConfig();
  if (value === IN_CLUSTER_CONFIG) {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    const port = process.env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) {
      throw new Error(
        `--${flag}=${IN_CLUSTER_CONFIG}: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)`,
      );
    }
    const root = process.env[IN_CLUSTER_ROOT_ENV] ?? "";
    const token = join(root, SERVICE_ACCOUNT_DIR, "token");
    if (!existsSync(token)) {
      throw new Error(`--${flag}=${IN_CLUSTER_CONFIG}: no service account token at ${token}`);
    }
    kc.loadFromCluster(root);
    return kc;
  }
  if (!value) {
    kc.loadFromDefault();
    return kc;
  }
  try {
    kc.loadFromFile(value);
  } catch (err) {
    throw new Error(`--${flag}=${value}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  honourTokenFiles(kc, value);
  if (!kc.getCurrentCluster()) throw new Error(`--${flag}=${value}: the kubeconfig has no current cluster`);
  return kc;
}

type RawKubeconfig = { users?: { name?: string; user?: { tokenFile?: string; token?: string } }[] };

/** client-node reads `token-file`, kubectl and client-go `tokenFile`: the latter becomes a file token. */
function honourTokenFiles(kc: KubeConfig, path: string): void {
  const raw = load(readFileSync(path, "utf8")) as RawKubeconfig | null;
  const files = new Map<string, string>();
  for (const u of raw?.users ?? []) {
    const file = u.user?.tokenFile;
    if (u.name && file && !u.user?.token) files.set(u.name, resolve(dirname(path), file));
  }
  if (files.size === 0) return;
  kc.users = kc.users.map((u) => {
    const tokenFile = files.get(u.name);
    return tokenFile ? { ...u, authProvider: { name: "tokenFile", config: { tokenFile } } } : u;
  });
}
