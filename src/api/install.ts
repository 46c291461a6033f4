import { setTimeout as sleep } from "node:timers/promises";
import { ApiextensionsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { serverSideApply } from "../runtime/client/raw.ts";
import { crds } from "./crd.ts";

const FIELD_MANAGER = "sprout";

/**
 * Applies sprout's CRDs (server-side apply, so repeated calls and concurrent callers converge) and
 * waits until the apiserver serves them.
 */
export async function installCrds(kc: KubeConfig, timeoutMs = 60_000): Promise<void> {
  const all = crds();
  for (const crd of all) {
    const name = (crd.metadata as { name: string }).name;
    await serverSideApply(
      kc,
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      crd,
      FIELD_MANAGER,
    );
  }
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const crd of all) {
    const name = (crd.metadata as { name: string }).name;
    for (;;) {
      const status = await ext.readCustomResourceDefinitionStatus({ name });
      if (status.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not established within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}
