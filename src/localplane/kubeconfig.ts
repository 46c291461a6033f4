import { readFile, writeFile } from "node:fs/promises";
import { KubeConfig } from "@kubernetes/client-node";
import { dump } from "js-yaml";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

export interface KubeconfigInput {
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly credential: { readonly certPem: string; readonly keyPem: string } | { readonly token: string };
  readonly cluster?: string;
}

/** A kubeconfig document (YAML) with everything embedded, usable by kubectl and by client libraries. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const cluster = input.cluster ?? "sprout-local";
  const user =
    "token" in input.credential
      ? { token: input.credential.token }
      : {
          "client-certificate-data": b64(input.credential.certPem),
          "client-key-data": b64(input.credential.keyPem),
        };
  return dump({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: cluster, cluster: { server: input.server, "certificate-authority-data": b64(input.caPem) } },
    ],
    users: [{ name: input.user, user }],
    contexts: [{ name: cluster, context: { cluster, user: input.user } }],
    "current-context": cluster,
  });
}

/** The cluster-only kubeconfig that kubeadm publishes in kube-public/cluster-info. */
export function renderClusterInfo(server: string, caPem: string): string {
  return dump({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "", cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [],
    contexts: [],
  });
}

export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  await writeFile(path, renderKubeconfig(input), { mode: 0o600 });
}

export function kubeConfigFromString(text: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
}

export async function loadKubeConfig(path: string): Promise<KubeConfig> {
  return kubeConfigFromString(await readFile(path, "utf8"));
}
