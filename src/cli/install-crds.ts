import { setTimeout as sleep } from "node:timers/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../runtime/client/client.ts";
import { crds } from "../api/crd.ts";

const customResourceDefinitions = {
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
} as const;

type Crd = { metadata?: { name?: string }; status?: { conditions?: { type: string; status: string }[] } };

/**
 * Applies sprout's CRDs (server-side apply, so repeated calls and concurrent callers converge) and
 * waits until the apiserver serves them.
 */
export async function installCrds(kc: KubeConfig, timeoutMs = 60_000): Promise<void> {
  const client = new KubeClient(kc);
  const names: string[] = [];
  for (const crd of crds()) {
    const name = (crd.metadata as { name: string }).name;
    names.push(name);
    await client.patch(customResourceDefinitions, undefined, name, crd, "apply");
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await client.get<Crd>(customResourceDefinitions, undefined, name);
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not established within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}
