import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, inject } from "vitest";

/** Admin client config for the shared real control plane of this test run. */
export async function adminKubeConfig(): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromString(await readFile(inject("kubeconfig"), "utf8"));
  return kc;
}

/** A client config for the same cluster that authenticates with a bearer token only. */
export function tokenKubeConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error("admin kubeconfig has no current cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "token-user", token }],
    contexts: [{ name: "token", cluster: cluster.name, user: "token-user" }],
    currentContext: "token",
  });
  return kc;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Creates a fresh namespace for a test file, deleted after the file's tests. */
export async function testNamespace(prefix = "test"): Promise<string> {
  const core = (await adminKubeConfig()).makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  afterAll(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return name;
}

/** HTTP status of a client-node API error (ApiException.code), or undefined. */
export function statusOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "number"
    ? err.code
    : undefined;
}

/** Awaits a rejected call and returns its HTTP status. */
export async function failureStatus(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
  } catch (err) {
    return statusOf(err);
  }
  throw new Error("expected the call to fail, and it succeeded");
}

/** Retries fn until it returns without throwing, or rethrows its last error after timeoutMs. */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(opts.intervalMs ?? 250);
    }
  }
}

/** A namespaced CustomResourceDefinition for tests: group, kind (plural = lowercase kind + "s"). */
export function testCrd(group: string, kind: string, openAPIV3Schema: Record<string, unknown>) {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { plural, singular: kind.toLowerCase(), kind },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema } }],
    },
  };
}
