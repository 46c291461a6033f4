import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { DescribeInstancesCommand, type EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { type Ec2World, prepareEc2World, rawEc2, startOwnMoto } from "../env/aws.ts";
import { AWS_REGION, createAwsClass } from "../env/aws-rig.ts";
import { createDeployment, machinesOf, runningLive } from "../env/deployments.ts";
import { Ec2VmFeed } from "../env/ec2-feed.ts";
import { crashLoop, killNow } from "../env/crash.ts";
import { adminKubeConfig, eventually, testNamespace } from "../env/index.ts";

/**
 * kill -9 of sprout (every controller, as `sprout start` runs them) at 100 random moments while a
 * MachineDeployment of 20 AWS machines is created and deleted on moto, which ignores EC2's
 * ClientToken: nothing de-duplicates a repeated RunInstances but sprout itself.
 */
const KILLS_PER_PHASE = 50;
const MACHINES = 20;

let ns: string;
let moto: { endpoint: string; stop(): Promise<void> };
let world: Ec2World;
let ec2: EC2Client;
let client: KubeClient;
let sim: NodeSimulator;
let sprout: ChildProcess | undefined;
const cluster = `shoot--chaos--${randomBytes(3).toString("hex")}`;
const clusterFilter = [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${cluster}`] }];

beforeAll(async () => {
  moto = await startOwnMoto();
  world = await prepareEc2World(moto.endpoint, AWS_REGION);
  ec2 = rawEc2(moto.endpoint, AWS_REGION);
  const kc = await adminKubeConfig();
  await installCrds(kc);
  client = new KubeClient(kc, { qps: 200, burst: 200 });
  ns = await testNamespace("chaos");
  sim = new NodeSimulator({
    cloud: new Ec2VmFeed(ec2, clusterFilter),
    nodes: nodeApi(client),
    bootDelayMs: 500,
    leaseRenewMs: 5000,
  });
  sim.start();
  await createAwsClass(
    { client, world, cluster },
    ns,
    "workers",
    "#cloud-config\nruncmd:\n- echo <<MACHINE_NAME>>\n",
  );
}, 180_000);

afterAll(async () => {
  sprout?.kill("SIGKILL");
  await sim.stop();
  ec2.destroy();
  await moto.stop();
});

function startSprout(): ChildProcess {
  const args = ["src/cli/main.ts", "start", `--control-kubeconfig=${inject("kubeconfig")}`];
  args.push(`--namespace=${ns}`, "--leader-elect=false", "--view=false", "--port=0");
  args.push("--concurrent-syncs=5", "--log-level=error");
  sprout = spawn(process.execPath, args, {
    stdio: "ignore",
    env: { ...process.env, AWS_ENDPOINT_URL_EC2: moto.endpoint },
  });
  return sprout;
}

const killSprout = (): Promise<void> => killNow(sprout);

const nameOf = (i: Instance): string => i.Tags?.find((t) => t.Key === "Name")?.Value ?? "";
const liveStates = new Set(["pending", "running", "stopping", "stopped"]);

/** The cluster's instances that are not terminating, straight from moto. */
async function liveInstances(): Promise<Instance[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: clusterFilter }));
  return (out.Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .filter((i) => liveStates.has(i.State?.Name ?? ""));
}

/** Never two live instances for one machine name. */
async function assertNoDuplicates(): Promise<void> {
  const counts = new Map<string, number>();
  for (const i of await liveInstances()) counts.set(nameOf(i), (counts.get(nameOf(i)) ?? 0) + 1);
  expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
}

const killLoop = (): Promise<void> =>
  crashLoop({
    kills: KILLS_PER_PHASE,
    start: startSprout,
    check: assertNoDuplicates,
    minMs: 500,
    maxMs: 4000,
  });

describe("crash safety on moto", () => {
  it(
    `${2 * KILLS_PER_PHASE} kill -9 of sprout during the create and delete of ${MACHINES} AWS machines: no duplicate, no orphan`,
    { timeout: 1_200_000 },
    async () => {
      await createDeployment(client, ns, "pool", { replicas: MACHINES, className: "workers" });
      await killLoop();
      startSprout();
      const machines = await eventually(
        async () => {
          const ms = await machinesOf(client, ns, "pool");
          expect(ms).toHaveLength(MACHINES);
          expect(runningLive(ms)).toHaveLength(MACHINES);
          return ms;
        },
        { timeoutMs: 300_000 },
      );
      // One live instance per Machine, the one its providerID names; none that no Machine names.
      const live = await liveInstances();
      expect(live.map(nameOf).sort()).toEqual(machines.map((m) => m.metadata?.name ?? "").sort());
      for (const m of machines) {
        const instance = live.find((i) => nameOf(i) === m.metadata?.name);
        expect(m.spec.providerID).toBe(`aws:///${world.zone}/${instance?.InstanceId ?? ""}`);
      }
      await killSprout();

      await client.delete(MachineResources.machineDeployments, ns, "pool");
      await killLoop();
      startSprout();
      await eventually(async () => expect(await machinesOf(client, ns, "pool")).toEqual([]), {
        timeoutMs: 300_000,
      });
      expect(await liveInstances()).toEqual([]);
      await killSprout();
    },
  );
});
