import { describe, expect, it } from "vitest";
import type { Machine, MachineClass } from "../api/index.ts";
import { MachineError } from "./errors.ts";
import { FAKE_CSI_DRIVER, FakeDriver } from "./fake.ts";

const machineClass: MachineClass = { provider: "Fake", providerSpec: {} };
const machine = (name: string, providerID?: string): Machine => ({
  metadata: { name },
  spec: { class: { kind: "MachineClass", name: "c" }, ...(providerID ? { providerID } : {}) },
});
const req = (name: string, providerID?: string) => ({
  machine: machine(name, providerID),
  machineClass,
  secret: {},
});
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "OK",
    (err: unknown) => MachineError.from(err).code,
  );

describe("FakeDriver", () => {
  it("keeps the contract: idempotent create, NotFound after delete, OutOfRange for twins", async () => {
    const fake = new FakeDriver();
    const a = await fake.createMachine(req("a"));
    expect(await fake.createMachine(req("a"))).toEqual(a);
    expect(await fake.getMachineStatus(req("a", a.providerID))).toMatchObject({ nodeName: "a" });
    fake.addVm("a");
    expect(await codeOf(fake.getMachineStatus(req("a")))).toBe("OutOfRange");
    await fake.deleteMachine(req("a"));
    expect(await codeOf(fake.getMachineStatus(req("a")))).toBe("NotFound");
    expect(await codeOf(fake.deleteMachine(req("a")))).toBe("OK");
    expect(await codeOf(fake.initializeMachine(req("a")))).toBe("Unimplemented");
  });

  it("fails a method the given number of times and records every call", async () => {
    const fake = new FakeDriver();
    fake.fail("createMachine", "ResourceExhausted", { times: 2 });
    expect(await codeOf(fake.createMachine(req("b")))).toBe("ResourceExhausted");
    expect(await codeOf(fake.createMachine(req("b")))).toBe("ResourceExhausted");
    expect(await codeOf(fake.createMachine(req("b")))).toBe("OK");
    expect(fake.callsOf("createMachine").map((c) => c.machineName)).toEqual(["b", "b", "b"]);
    expect((await fake.listMachines({ machineClass, secret: {} })).machineList.size).toBe(1);
  });

  it("asks for initialization when told to, and reports only its own volumes", async () => {
    const fake = new FakeDriver({ initialize: true });
    const vm = await fake.createMachine(req("c"));
    expect(await codeOf(fake.getMachineStatus(req("c")))).toBe("Uninitialized");
    const init = await fake.initializeMachine(req("c", vm.providerID));
    expect(init.lastKnownState).toMatch(/initialized$/);
    expect(await codeOf(fake.getMachineStatus(req("c")))).toBe("OK");
    const pvSpecs = [
      { csi: { driver: FAKE_CSI_DRIVER, volumeHandle: "v1" } },
      { csi: { driver: "x", volumeHandle: "v2" } },
    ];
    expect((await fake.getVolumeIDs({ pvSpecs })).volumeIDs).toEqual(["v1"]);
  });

  it("names VMs after their machines and reports a recycled Node name once", async () => {
    const fake = new FakeDriver();
    fake.nextNodeName = "old-node";
    expect(await fake.createMachine(req("d"))).toMatchObject({
      providerID: "fake:///d",
      nodeName: "old-node",
    });
    expect(fake.addVm("d").providerID).toBe("fake:///d-2");
    await fake.deleteMachine(req("d"));
    expect(await fake.createMachine(req("d"))).toMatchObject({ providerID: "fake:///d", nodeName: "d" });
    fake.fail("listMachines", "Internal");
    fake.fail("getVolumeIDs", "Internal");
    fake.clearFaults("listMachines");
    expect(await codeOf(fake.listMachines({ machineClass, secret: {} }))).toBe("OK");
    expect(await codeOf(fake.getVolumeIDs({ pvSpecs: [] }))).toBe("Internal");
    expect(fake.callsOf("createMachine", "d")).toHaveLength(2);
  });
});
