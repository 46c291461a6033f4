import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { cacheDir } from "../../src/localplane/cache.ts";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { MotoServer } from "./moto.ts";
import { stderrProgress } from "../../src/localplane/progress.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig of the shared real control plane. */
    kubeconfig: string;
    /** moto's endpoint (EC2 and every other AWS API moto serves). */
    motoEndpoint: string;
    /** etcd's client URL behind the apiserver (to store objects admission would reject today). */
    etcdEndpoint: string;
  }
}

/** One real control plane (etcd, kube-apiserver, kube-controller-manager) and one moto per test run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plane = await LocalPlane.start({ progress: stderrProgress });
  const motoDir = await mkdtemp(join(cacheDir(), "moto-"));
  const moto = await MotoServer.start(motoDir, { progress: stderrProgress }).catch(async (err: unknown) => {
    await plane.stop();
    throw err;
  });
  project.provide("kubeconfig", plane.kubeconfigPath);
  project.provide("motoEndpoint", moto.endpoint);
  project.provide("etcdEndpoint", plane.etcdEndpoint);
  return async () => {
    await moto.stop();
    await rm(motoDir, { recursive: true, force: true });
    await plane.stop();
  };
}
