import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { isAlive } from "../../src/localplane/processes.ts";
import { adminKubeConfig, uniqueName } from "../env/index.ts";

describe("LocalPlane lifecycle", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("runs beside the shared plane, keeps data across a restart, and leaves no process behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sprout-plane-"));
    dirs.push(dir);
    const plane = await LocalPlane.start({ dir });
    const pids = Object.values(plane.pids);
    try {
      expect(Object.keys(plane.pids).sort()).toEqual(["etcd", "kube-apiserver", "kube-controller-manager"]);
      // A second, independent cluster: the shared plane's server differs and it does not see our objects.
      const shared = await adminKubeConfig();
      expect(shared.getCurrentCluster()?.server).not.toBe(plane.server);

      const core = (await plane.kubeConfig()).makeApiClient(CoreV1Api);
      const name = uniqueName("keep");
      await core.createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name }, data: { a: "1" } },
      });
      const sharedCore = shared.makeApiClient(CoreV1Api);
      await expect(sharedCore.readNamespacedConfigMap({ namespace: "default", name })).rejects.toMatchObject({
        code: 404,
      });

      const server = plane.server;
      await plane.restart();
      expect(plane.server).toBe(server);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      const again = (await plane.kubeConfig()).makeApiClient(CoreV1Api);
      const kept = await again.readNamespacedConfigMap({ namespace: "default", name });
      expect(kept.data).toEqual({ a: "1" });
      pids.push(...Object.values(plane.pids));
    } finally {
      await plane.stop();
    }
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(dir, "logs", "pids", "etcd.json"))).toBe(false);
  });

  it("removes a throw-away plane's folder on stop", async () => {
    const plane = await LocalPlane.start({ controllerManager: false });
    expect(existsSync(plane.dir)).toBe(true);
    expect(Object.keys(plane.pids).sort()).toEqual(["etcd", "kube-apiserver"]);
    await plane.stop();
    expect(existsSync(plane.dir)).toBe(false);
  });
});
