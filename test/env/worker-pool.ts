import { validateWorkerPool, type WorkerPool } from "../../src/bootstrap/model.ts";
import { renderWorkerUserData, type UserDataFormatName } from "../../src/bootstrap/render.ts";
import { loadTemplates } from "../../src/bootstrap/templates.ts";
import { adminKubeConfig } from "./index.ts";
import { validateUserData } from "./validators.ts";

/** A worker pool that joins the shared test control plane: its apiserver and CA. */
export async function testWorkerPool(patch: Record<string, unknown> = {}): Promise<WorkerPool> {
  const cluster = (await adminKubeConfig()).getCurrentCluster();
  if (!cluster?.caData) throw new Error("the test kubeconfig has no embedded CA");
  return validateWorkerPool({
    apiVersion: "bootstrap.sprout.gardener.cloud/v1alpha1",
    kind: "WorkerPool",
    name: "workers",
    cluster: { server: cluster.server, caPem: Buffer.from(cluster.caData, "base64").toString() },
    ...patch,
  });
}

const rendered = new Map<string, Promise<string>>();

/**
 * The user data sprout renders for a test pool (with <<BOOTSTRAP_TOKEN>> still in it), checked by
 * the real validator of its format. Rendered once per format and patch.
 */
export function workerUserData(
  format: UserDataFormatName = "cloud-config",
  patch: Record<string, unknown> = {},
): Promise<string> {
  const key = `${format} ${JSON.stringify(patch)}`;
  let out = rendered.get(key);
  if (!out) {
    out = (async () => {
      const text = renderWorkerUserData(await testWorkerPool(patch), format, await loadTemplates());
      await validateUserData(text, format);
      return text;
    })();
    rendered.set(key, out);
  }
  return out;
}
