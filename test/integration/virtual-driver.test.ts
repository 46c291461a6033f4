import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Machine, MachineClass } from "../../src/api/index.ts";
import type { Driver, SecretData } from "../../src/driver/driver.ts";
import { MachineError } from "../../src/driver/errors.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { startVirtualCloud, type VirtualCloudProcess } from "../../src/sim/cloud/process.ts";
import { eventually, uniqueName } from "../env/index.ts";

let dir: string;
let cloud: VirtualCloudProcess;
let driver: Driver;
let admin: CloudClient;
const TOKEN = "s3cret";
const secret: SecretData = {
  userData: Buffer.from("#cloud-config\n"),
  virtualCloudToken: Buffer.from(TOKEN),
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprout-vcloud-"));
  cloud = await startVirtualCloud(dir, ["--token", TOKEN]);
  admin = new CloudClient(cloud.endpoint, TOKEN);
  const registry = new DriverRegistry({
    context: { env: { SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloud.endpoint } },
  });
  driver = await registry.driverFor("virtual");
});

afterAll(async () => {
  await cloud.stop();
  await rm(dir, { recursive: true, force: true });
});

const machineClass = (providerSpec: Record<string, unknown> = {}): MachineClass => ({
  providerSpec: {
    machineType: "small",
    zone: "zone-a",
    tags: { "kubernetes.io/cluster/test": "1" },
    ...providerSpec,
  },
  provider: "virtual",
});
const machine = (name: string, providerID?: string): Machine => ({
  metadata: { name, namespace: "shoot--p--c" },
  spec: { class: { kind: "MachineClass", name: "c" }, ...(providerID ? { providerID } : {}) },
});
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "OK";
  } catch (err) {
    return MachineError.from(err).code;
  }
};

describe("virtual driver through the plugin registry", () => {
  it("creates idempotently, finds by name and providerID, lists, and deletes", async () => {
    const name = uniqueName("m");
    const req = { machine: machine(name), machineClass: machineClass(), secret };
    const first = await driver.createMachine(req);
    const again = await driver.createMachine(req);
    expect(again.providerID).toBe(first.providerID);
    expect(first.providerID).toMatch(/^virtual:\/\/\/zone-a\/vm-/);
    expect(first.nodeName).toBe(name);
    expect((await driver.getMachineStatus(req)).providerID).toBe(first.providerID);
    const byId = { ...req, machine: machine(name, first.providerID) };
    expect((await driver.getMachineStatus(byId)).nodeName).toBe(name);
    const list = await driver.listMachines({ machineClass: machineClass(), secret });
    expect(list.machineList.get(first.providerID)).toBe(name);
    expect((await admin.findVms({ name }))[0]?.userData).toBe(
      Buffer.from("#cloud-config\n").toString("base64"),
    );

    await driver.deleteMachine(byId);
    expect(await codeOf(driver.getMachineStatus(req))).toBe("NotFound");
    expect(await codeOf(driver.getMachineStatus(byId))).toBe("NotFound");
    expect(await codeOf(driver.deleteMachine(byId))).toBe("OK");
  });

  it("never makes two VMs for 20 parallel creates of one machine", async () => {
    const name = uniqueName("par");
    const req = { machine: machine(name), machineClass: machineClass(), secret };
    const results = await Promise.all(Array.from({ length: 20 }, () => driver.createMachine(req)));
    expect(new Set(results.map((r) => r.providerID)).size).toBe(1);
    expect(await admin.findVms({ name })).toHaveLength(1);
  });

  it("keeps VMs across a restart of the cloud, and a create cut off by it is adopted", async () => {
    const name = uniqueName("restart");
    await admin.setFaults({ createLatencyMs: 2000 });
    const cut = codeOf(
      driver.createMachine({ machine: machine(name), machineClass: machineClass(), secret }),
    );
    // The cloud holds the VM, still pending, while the create waits out its latency: cut it there.
    await eventually(async () => expect((await admin.findVms({ name }))[0]?.state).toBe("pending"));
    await cloud.stop();
    expect(await cut).toBe("Unavailable");
    cloud = await startVirtualCloud(dir, ["--token", TOKEN], Number(new URL(cloud.endpoint).port));
    const adopted = await driver.createMachine({
      machine: machine(name),
      machineClass: machineClass(),
      secret,
    });
    expect(await admin.findVms({ name })).toHaveLength(1);
    expect((await admin.findVms({ name }))[0]?.state).toBe("running");
    expect(adopted.nodeName).toBe(name);
  });

  it.each<[string, () => Promise<unknown>, string, RegExp?]>([
    [
      "quota exhausted",
      async () => {
        await admin.setFaults({ quota: 0 });
        return driver.createMachine({
          machine: machine(uniqueName("q")),
          machineClass: machineClass(),
          secret,
        });
      },
      "ResourceExhausted",
    ],
    [
      "throttled",
      async () => {
        await admin.setFaults({ throttleRate: 1 });
        return driver.getMachineStatus({ machine: machine("x"), machineClass: machineClass(), secret });
      },
      "Unavailable",
    ],
    [
      "an injected cloud failure",
      async () => {
        await admin.setFaults({ failureRate: 1 });
        return driver.createMachine({
          machine: machine(uniqueName("f")),
          machineClass: machineClass(),
          secret,
        });
      },
      "Internal",
    ],
    [
      "a wrong token",
      () =>
        driver.listMachines({
          machineClass: machineClass(),
          secret: { virtualCloudToken: Buffer.from("wrong") },
        }),
      "Unauthenticated",
    ],
    [
      "a bad providerSpec",
      () =>
        driver.createMachine({
          machine: machine("x"),
          machineClass: machineClass({ machineType: "huge" }),
          secret,
        }),
      "InvalidArgument",
      /providerSpec\.machineType: must be one of small, medium, large/,
    ],
    [
      "an unreachable cloud",
      () => driver.listMachines({ machineClass: machineClass({ endpoint: "http://127.0.0.1:9" }), secret }),
      "Unavailable",
    ],
  ])("maps %s to %s", async (_, call, code, message) => {
    try {
      const err = MachineError.from(
        await call().then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(err.code).toBe(code);
      if (message) expect(err.message).toMatch(message);
    } finally {
      await admin.setFaults({ quota: -1, throttleRate: 0, failureRate: 0, createLatencyMs: 0 });
    }
  });

  it("names the providers it knows when a class asks for an unknown one", async () => {
    const err = MachineError.from(await new DriverRegistry().driverFor("Nimbus").catch((e: unknown) => e));
    expect(err.code).toBe("InvalidArgument");
    expect(err.message).toContain('no driver plugin serves provider "Nimbus"');
    expect(err.message).toContain("virtual");
  });

  it("reports its volumes only", async () => {
    const ids = await driver.getVolumeIDs({
      pvSpecs: [
        { csi: { driver: "disk.csi.virtual.sprout", volumeHandle: "vol-1" } },
        { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-aws" } },
        { hostPath: { path: "/x" } },
      ],
    });
    expect(ids.volumeIDs).toEqual(["vol-1"]);
  });
});
