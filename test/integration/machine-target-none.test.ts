import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { eventually, failureStatus, testNamespace, uniqueName } from "../env/index.ts";
import { createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";

let ns: string;
let rig: MachineRig;

beforeAll(async () => {
  ns = await testNamespace("notarget");
  rig = await startMachineRig(ns, {}, { targetNone: true });
  await createWorkerClass(rig.client, ns, { userData: "#cloud-config\nname: <<MACHINE_NAME>>\n" });
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

describe("machine controller without a target cluster (--target-kubeconfig=none)", () => {
  it("makes machines Available once their VM exists, without bootstrap tokens, and deletes them", async () => {
    const name = uniqueName("m");
    await rig.client.create(MachineResources.machines, {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "Machine",
      metadata: { name, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "small" } },
    });
    const get = (): Promise<Machine> => rig.client.get<Machine>(MachineResources.machines, ns, name);
    await eventually(async () => expect((await get()).status?.currentStatus?.phase).toBe("Available"));
    expect((await get()).status?.lastOperation).toMatchObject({ type: "Create", state: "Successful" });
    const [vm] = await rig.cloud.findVms({ name });
    expect(Buffer.from(vm?.userData ?? "", "base64").toString()).toContain(`name: ${name}`);
    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(async () => expect(await failureStatus(get())).toBe(404), { timeoutMs: 30_000 });
    expect(await rig.cloud.findVms({ name })).toEqual([]);
  });
});
