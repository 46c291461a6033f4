import { DescribeInstancesCommand, type Instance, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, SafetyReasons } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { SafetyMetricNames } from "../../src/controllers/safety/metrics.ts";
import { type AwsRig, createAwsClass, startAwsRig } from "../env/aws-rig.ts";
import { createDeployment, isLive, machinesOf, runningLive } from "../env/deployments.ts";
import { eventually, testNamespace } from "../env/index.ts";
import { createVirtualClass, createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";
import { eventsOf, metricValue } from "../env/safety.ts";

/** The orphan scan every 2 s; a machine older than 1 s is no longer "being made". */
const SAFETY = { orphanPeriodMs: 2000, orphanGraceMs: 1000 };
const CLUSTER_TAG = { "kubernetes.io/cluster/orphans": "1" };
const NAME_TAG = "sprout.gardener.cloud/machine";

describe("orphan VM collector on the virtual cloud", () => {
  let ns: string;
  let rig: MachineRig;

  beforeAll(async () => {
    ns = await testNamespace("orphans");
    rig = await startMachineRig(ns, { healthTimeoutMs: 4000 }, { safety: SAFETY });
    await createWorkerClass(rig.client, ns, { providerSpec: { machineType: "small", tags: CLUSTER_TAG } });
  }, 60_000);

  afterAll(async () => {
    await rig.stop();
  });

  it("deletes a VM of the cluster without a Machine, keeps the machines' own, and replaces a machine whose VM vanished", async () => {
    await createDeployment(rig.client, ns, "workers", { replicas: 2, className: "small" });
    const machines = await eventually(
      async () => {
        const ms = await machinesOf(rig.client, ns, "workers");
        expect(runningLive(ms)).toHaveLength(2);
        return ms;
      },
      { timeoutMs: 60_000 },
    );
    const own = (await rig.cloud.findVms({ tags: CLUSTER_TAG })).map((vm) => vm.id).sort();
    expect(own).toHaveLength(2);

    // A VM with the cluster's tags and a machine name no Machine has, and one of another cluster.
    const ghost = await rig.cloud.createVm({
      name: "ghost",
      zone: "zone-a",
      machineType: "small",
      tags: { ...CLUSTER_TAG, [NAME_TAG]: "ghost" },
    });
    const foreign = await rig.cloud.createVm({
      name: "foreign",
      zone: "zone-a",
      machineType: "small",
      tags: { "kubernetes.io/cluster/other": "1", [NAME_TAG]: "foreign" },
    });
    await eventually(async () => {
      const ids = (await rig.cloud.findVms({ tags: CLUSTER_TAG })).map((vm) => vm.id);
      expect(ids).not.toContain(ghost.id);
    });
    expect((await rig.cloud.findVms({ tags: CLUSTER_TAG })).map((vm) => vm.id).sort()).toEqual(own);
    expect((await rig.cloud.findVms({ name: "foreign" })).map((vm) => vm.id)).toEqual([foreign.id]);
    // The Event and the count follow the delete.
    const collected = await eventually(async () => {
      const events = await eventsOf(rig.client, ns, SafetyReasons.orphanCollected);
      expect(events.map((e) => e.regarding?.name)).toEqual(["small"]);
      return events;
    });
    expect(collected[0]?.note).toContain(ghost.id);
    const registry = rig.manager.metrics.registry;
    const counted = { provider: "virtual", result: "collected" };
    expect(await metricValue(registry, SafetyMetricNames.orphanVms, counted)).toBe(1);
    expect(await metricValue(registry, SafetyMetricNames.orphanVms, { result: "duplicate" })).toBe(0);

    // A VM whose Machine is still being made (no phase yet: its class's Secret is missing) stays.
    await createVirtualClass(rig.client, ns, "broken", { secretRef: "missing" });
    await rig.client.create(MachineResources.machines, {
      apiVersion: API_VERSION,
      kind: "Machine",
      metadata: { name: "making", namespace: ns },
      spec: { class: { kind: "MachineClass", name: "broken" } },
    });
    const making = await rig.cloud.createVm({
      name: "making",
      zone: "zone-a",
      machineType: "small",
      tags: { ...CLUSTER_TAG, [NAME_TAG]: "making" },
    });
    const scans = { provider: "virtual", result: "success" };
    const before = await metricValue(registry, SafetyMetricNames.orphanScans, scans);
    await eventually(async () =>
      expect(await metricValue(registry, SafetyMetricNames.orphanScans, scans)).toBeGreaterThan(before + 2),
    );
    expect((await rig.cloud.findVms({ name: "making" })).map((vm) => vm.id)).toEqual([making.id]);
    await rig.cloud.deleteVm(making.id);

    // A machine's VM deleted behind sprout's back: reported, and the machine replaced.
    const victim = machines[0];
    const victimVm = victim?.spec.providerID?.split("/").pop() ?? "";
    await rig.cloud.deleteVm(victimVm);
    await eventually(
      async () => {
        const ms = await machinesOf(rig.client, ns, "workers");
        expect(ms.map((m) => m.metadata?.name)).not.toContain(victim?.metadata?.name);
        expect(runningLive(ms.filter(isLive))).toHaveLength(2);
      },
      { timeoutMs: 60_000 },
    );
    await eventually(async () => {
      const vanished = await eventsOf(rig.client, ns, SafetyReasons.vmVanished);
      expect(vanished.map((e) => e.regarding?.name)).toContain(victim?.metadata?.name);
    });
    expect(await metricValue(registry, SafetyMetricNames.vanishedVms)).toBeGreaterThanOrEqual(1);
    // Nothing of the machines' own was collected meanwhile.
    expect(await metricValue(registry, SafetyMetricNames.orphanVms, counted)).toBe(1);
    expect(await rig.cloud.findVms({ tags: CLUSTER_TAG })).toHaveLength(2);
  });
});

describe("orphan VM collector on moto (AWS plugin)", () => {
  let ns: string;
  let rig: AwsRig;

  beforeAll(async () => {
    ns = await testNamespace("orphans-aws");
    rig = await startAwsRig(ns, { safety: SAFETY });
    await createAwsClass(rig, ns, "aws-workers", "#cloud-config\n");
  }, 120_000);

  afterAll(async () => {
    await rig.stop();
  });

  const liveInstances = async (): Promise<Instance[]> => {
    const out = await rig.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag-key", Values: [`kubernetes.io/cluster/${rig.cluster}`] },
          { Name: "instance-state-name", Values: ["pending", "running"] },
        ],
      }),
    );
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  };

  it("terminates an instance tagged for the cluster that no Machine names, and no other", async () => {
    await createDeployment(rig.client, ns, "workers", { replicas: 2, className: "aws-workers" });
    await eventually(
      async () => expect(runningLive(await machinesOf(rig.client, ns, "workers"))).toHaveLength(2),
      { timeoutMs: 90_000 },
    );
    const own = (await liveInstances()).map((i) => i.InstanceId).sort();
    expect(own).toHaveLength(2);
    const tags = [
      { Key: `kubernetes.io/cluster/${rig.cluster}`, Value: "1" },
      { Key: "kubernetes.io/role/node", Value: "1" },
      { Key: "Name", Value: "ghost" },
    ];
    const run = await rig.ec2.send(
      new RunInstancesCommand({
        ImageId: rig.world.ami,
        InstanceType: "m5.large",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: rig.world.subnetId,
        TagSpecifications: [{ ResourceType: "instance", Tags: tags }],
      }),
    );
    const ghost = run.Instances?.[0]?.InstanceId ?? "";
    expect(ghost).not.toBe("");
    await eventually(async () =>
      expect((await liveInstances()).map((i) => i.InstanceId)).not.toContain(ghost),
    );
    expect((await liveInstances()).map((i) => i.InstanceId).sort()).toEqual(own);
    const collected = await eventually(async () => {
      const events = await eventsOf(rig.client, ns, SafetyReasons.orphanCollected);
      expect(events).toHaveLength(1);
      return events;
    });
    expect(collected[0]?.note).toContain(ghost);
    const registry = rig.manager.metrics.registry;
    expect(
      await metricValue(registry, SafetyMetricNames.orphanVms, { provider: "aws", result: "collected" }),
    ).toBe(1);
  });
});
