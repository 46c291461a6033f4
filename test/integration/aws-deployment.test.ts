import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { type AwsRig, createAwsClass, startAwsRig } from "../env/aws-rig.ts";
import { createDeployment, isLive, machinesOf, patchDeployment, runningLive } from "../env/deployments.ts";
import { eventually, testNamespace } from "../env/index.ts";

let ns: string;
let rig: AwsRig;
const USER_DATA = "#cloud-config\nruncmd:\n- echo <<MACHINE_NAME>> joins with <<BOOTSTRAP_TOKEN>>\n";

beforeAll(async () => {
  ns = await testNamespace("aws");
  rig = await startAwsRig(ns);
  await createAwsClass(rig, ns, "aws-workers", USER_DATA);
}, 120_000);

afterAll(async () => {
  await rig.stop();
});

/** Every instance ever made for the rig's cluster, whatever its state, straight from moto. */
async function clusterInstances(): Promise<Instance[]> {
  const out = await rig.ec2.send(
    new DescribeInstancesCommand({
      Filters: [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${rig.cluster}`] }],
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const stateOf = (i: Instance): string => i.State?.Name ?? "";
const byState = (instances: Instance[], ...states: string[]): Instance[] =>
  instances.filter((i) => states.includes(stateOf(i)));
const live = (instances: Instance[]): Instance[] =>
  byState(instances, "pending", "running", "stopping", "stopped");
const tag = (i: Instance, key: string): string | undefined => i.Tags?.find((t) => t.Key === key)?.Value;

async function nodeOf(name: string): Promise<{ spec?: { providerID?: string } } | undefined> {
  return rig.client
    .get<{ spec?: { providerID?: string } }>(Resources.nodes, undefined, name)
    .catch(() => undefined);
}

async function waitMachines(count: number): Promise<Machine[]> {
  return eventually(
    async () => {
      const machines = await machinesOf(rig.client, ns, "workers");
      expect(machines.filter(isLive)).toHaveLength(count);
      expect(runningLive(machines)).toHaveLength(count);
      expect(machines).toHaveLength(count);
      return machines;
    },
    { timeoutMs: 90_000 },
  );
}

/** One instance per Machine, tagged for the cluster and carrying the machine's rendered user data. */
async function expectInstancesOf(machines: Machine[], instances: Instance[]): Promise<void> {
  expect(instances).toHaveLength(machines.length);
  expect(live(instances)).toHaveLength(machines.length);
  const names = machines.map((m) => m.metadata?.name ?? "").sort();
  expect(instances.map((i) => tag(i, "Name")).sort()).toEqual(names);
  for (const instance of instances) {
    const name = tag(instance, "Name") ?? "";
    expect(tag(instance, `kubernetes.io/cluster/${rig.cluster}`)).toBe("1");
    expect(tag(instance, "kubernetes.io/role/node")).toBe("1");
    const attr = await rig.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instance.InstanceId ?? "", Attribute: "userData" }),
    );
    const userData = Buffer.from(attr.UserData?.Value ?? "", "base64").toString();
    expect(userData).toMatch(
      new RegExp(`^#cloud-config\nruncmd:\n- echo ${name} joins with [0-9a-z]{6}\\.[0-9a-z]{16}\n$`),
    );
  }
}

/** Each Machine's Node registered under its instance's private DNS name, with the Machine's providerID. */
async function expectNodesOf(machines: Machine[], instances: Instance[]): Promise<void> {
  for (const machine of machines) {
    const id = machine.spec.providerID ?? "";
    const instance = instances.find((i) => id === `aws:///${rig.world.zone}/${i.InstanceId}`);
    expect(instance, `instance of ${id}`).toBeDefined();
    const nodeName = machine.metadata?.labels?.node ?? "";
    expect(nodeName).toBe(instance?.PrivateDnsName);
    expect((await nodeOf(nodeName))?.spec?.providerID).toBe(id);
  }
}

describe("a MachineDeployment of AWS machines on moto", () => {
  it("creates 5 instances that join as Nodes, scales to 2 terminating exactly 3, and leaves none when deleted", async () => {
    await createDeployment(rig.client, ns, "workers", {
      replicas: 5,
      className: "aws-workers",
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    });
    const machines = await waitMachines(5);

    const instances = await clusterInstances();
    await expectInstancesOf(machines, instances);
    await expectNodesOf(machines, instances);

    await patchDeployment(rig.client, ns, "workers", { spec: { replicas: 2 } });
    const kept = await waitMachines(2);
    const afterScale = await clusterInstances();
    expect(afterScale).toHaveLength(5);
    expect(byState(afterScale, "shutting-down", "terminated")).toHaveLength(3);
    expect(
      live(afterScale)
        .map((i) => tag(i, "Name"))
        .sort(),
    ).toEqual(kept.map((m) => m.metadata?.name ?? "").sort());

    await rig.client.delete(MachineResources.machineDeployments, ns, "workers");
    await eventually(async () => expect(await machinesOf(rig.client, ns, "workers")).toEqual([]), {
      timeoutMs: 90_000,
    });
    const afterDelete = await clusterInstances();
    expect(afterDelete).toHaveLength(5);
    expect(live(afterDelete)).toEqual([]);
    for (const machine of kept) expect(await nodeOf(machine.metadata?.labels?.node ?? "")).toBeUndefined();
  });
});
