import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, inject } from "vitest";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { repoRoot } from "../../src/localplane/cache.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud } from "../../src/sim/cloud/process.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { createDeployment, machinesOf, runningLive } from "../env/deployments.ts";
import { adminKubeConfig, eventually, testNamespace } from "../env/index.ts";
import { createWorkerClass } from "../env/machines.ts";
import { cloudProviderClient } from "../env/autoscaler.ts";
import { AutoscalerKeys } from "../../src/api/constants.ts";
import { freePort } from "../../src/localplane/ports.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const sprout = (args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess =>
  spawn(process.execPath, ["src/cli/main.ts", "start", ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });

describe("sprout start against given clusters", () => {
  it("runs the controllers and the externalgrpc provider on an existing seed, and stops on SIGTERM", async () => {
    const ns = await testNamespace("start-clusters");
    const kc = await adminKubeConfig();
    await installCrds(kc);
    const client = new KubeClient(kc, { qps: 100, burst: 100 });
    const dir = await mkdtemp(join(tmpdir(), "sprout-start-clusters-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cloud = await startVirtualCloud(dir);
    cleanups.push(() => cloud.stop());
    const sim = new NodeSimulator({
      cloud: new CloudClient(cloud.endpoint),
      nodes: nodeApi(client),
      bootDelayMs: 200,
      onError: () => undefined,
    });
    sim.start();
    cleanups.push(() => sim.stop());
    await createWorkerClass(client, ns);
    await createDeployment(client, ns, "pool", { replicas: 2, className: "small" });
    const sizes = { [AutoscalerKeys.minSize]: "1", [AutoscalerKeys.maxSize]: "5" };
    await client.patch(MachineResources.machineDeployments, ns, "pool", { metadata: { annotations: sizes } });
    const grpcPort = await freePort();

    const child = sprout(
      [
        `--control-kubeconfig=${inject("kubeconfig")}`,
        `--namespace=${ns}`,
        "--port=0",
        "--leader-elect=false",
        "--view=false",
        `--autoscaler-grpc-address=127.0.0.1:${grpcPort}`,
      ],
      { ...process.env, SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloud.endpoint },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    cleanups.push(() => Promise.resolve(child.exitCode === null && child.kill("SIGKILL")));

    await eventually(async () => expect(runningLive(await machinesOf(client, ns, "pool"))).toHaveLength(2), {
      timeoutMs: 60_000,
    });
    // Only what the user created: the embedded default's sample is not applied to a given cluster.
    const classes = await client.list(MachineResources.machineClasses, ns);
    expect(classes.items.map((c) => c.metadata?.name)).toEqual(["small"]);
    // The cluster-autoscaler's view, through --autoscaler-grpc-address.
    const ca = cloudProviderClient(`127.0.0.1:${grpcPort}`);
    cleanups.push(() => Promise.resolve(ca.close()));
    expect(await ca.call("NodeGroups")).toMatchObject({
      nodeGroups: [{ id: `${ns}.pool`, minSize: 1, maxSize: 5 }],
    });
    expect(await ca.call("NodeGroupTargetSize", { id: `${ns}.pool` })).toEqual({ targetSize: 2 });

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 120_000);

  it("refuses --target-kubeconfig without --control-kubeconfig", () => {
    const res = spawnSync(
      process.execPath,
      ["src/cli/main.ts", "start", "--target-kubeconfig=/tmp/shoot.kubeconfig"],
      { cwd: repoRoot, encoding: "utf8", timeout: 30_000 },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("--target-kubeconfig needs --control-kubeconfig");
  });

  it("refuses externalgrpc certificates given in part, and an address that is not HOST:PORT", () => {
    const start = (args: string[]) =>
      spawnSync(process.execPath, ["src/cli/main.ts", "start", "--control-kubeconfig=/tmp/none", ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 30_000,
      });
    const partial = start(["--autoscaler-grpc-address=127.0.0.1:1", "--autoscaler-grpc-cert=/tmp/c.pem"]);
    expect(partial.status).toBe(1);
    expect(partial.stderr).toContain(
      "--autoscaler-grpc-cert, --autoscaler-grpc-key, --autoscaler-grpc-ca go together",
    );
    const bad = start(["--autoscaler-grpc-address=localhost"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--autoscaler-grpc-address=localhost is not HOST:PORT");
  });
});
