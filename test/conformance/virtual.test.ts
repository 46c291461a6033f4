import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import type { MachineClass } from "../../src/api/index.ts";
import type { Driver, SecretData } from "../../src/driver/driver.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { DEFAULT_FAULTS } from "../../src/sim/cloud/types.ts";
import { startVirtualCloud, type VirtualCloudProcess } from "../../src/sim/cloud/process.ts";
import { type ConformanceTarget, driverConformance, testMachine } from "./suite.ts";

const TOKEN = "virtual-cloud-conformance-token";
const MACHINE_NAME_TAG = "sprout.gardener.cloud/machine";
let dir: string;
let cloud: VirtualCloudProcess | undefined;
let target: ConformanceTarget | undefined;

const machineClass = (cluster: string, spec: Record<string, unknown> = {}): MachineClass => ({
  provider: "virtual",
  providerSpec: {
    machineType: "small",
    zone: "zone-a",
    tags: { [`kubernetes.io/cluster/${cluster}`]: "1", "kubernetes.io/role/node": "1" },
    ...spec,
  },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprout-conformance-"));
  cloud = await startVirtualCloud(dir, ["--token", TOKEN]);
  const admin = new CloudClient(cloud.endpoint, TOKEN);
  const env = { SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloud.endpoint, SPROUT_VIRTUAL_CLOUD_PAGE_SIZE: "4" };
  const driver = await new DriverRegistry({ context: { env } }).driverFor("virtual");
  const secret: SecretData = {
    userData: Buffer.from("#cloud-config\n"),
    virtualCloudToken: Buffer.from(TOKEN),
  };
  const create = (
    c: string,
    spec: Record<string, unknown> = {},
    d: Driver = driver,
    s: SecretData = secret,
  ) => d.createMachine({ machine: testMachine(`err-${c}`), machineClass: machineClass(c, spec), secret: s });
  const status = (c: string) =>
    driver.getMachineStatus({ machine: testMachine("err-status"), machineClass: machineClass(c), secret });
  const tagsOf = (cluster: string, name: string) => ({
    [MACHINE_NAME_TAG]: name,
    [`kubernetes.io/cluster/${cluster}`]: "1",
  });
  const vmsNamed = async (cluster: string, name: string): Promise<string[]> =>
    (await admin.findVms({ tags: tagsOf(cluster, name) })).map((vm) => vm.id);
  target = {
    name: "virtual",
    driver,
    secret,
    machineClass,
    vmsNamed,
    async strayVm(cluster, name) {
      await admin.createVm({
        name,
        zone: "zone-a",
        machineType: "small",
        tags: { ...tagsOf(cluster, name), "kubernetes.io/role/node": "1" },
      });
    },
    async loseNextCreateAnswer() {
      await admin.setFaults({ lostAnswerRate: 1 });
    },
    async clearFaults() {
      await admin.setFaults(DEFAULT_FAULTS);
    },
    volumes: {
      pvSpecs: [
        { csi: { driver: "disk.csi.virtual.sprout", volumeHandle: "vol-1" } },
        { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0a1b2c3d4e5f60718" } },
        { awsElasticBlockStore: { volumeID: "vol-0badc0ffee0000002" } },
        { hostPath: { path: "/x" } },
      ],
      expected: ["vol-1"],
    },
    dependents: {
      async of(cluster, name) {
        return (await admin.findDependents(tagsOf(cluster, name))).map((d) => d.id);
      },
      async failNextCreateHalfway() {
        await admin.setFaults({ halfCreateRate: 1 });
      },
      async removeVmOnly(cluster, name) {
        await admin.setFaults({ orphanDependentsRate: 1 });
        for (const id of await vmsNamed(cluster, name)) await admin.deleteVm(id);
        await admin.setFaults({ orphanDependentsRate: 0 });
      },
    },
    listPageSize: 4,
    listPages: async () => (await admin.stats()).listPages,
    errorCases: [
      {
        what: "a bad providerSpec",
        code: "InvalidArgument",
        call: (c) => create(c, { machineType: "huge" }),
        message: /providerSpec\.machineType: must be one of small, medium, large/,
      },
      {
        what: "quota exhausted",
        code: "ResourceExhausted",
        call: (c) => admin.setFaults({ quota: 0 }).then(() => create(c)),
      },
      {
        what: "throttling",
        code: "Unavailable",
        call: (c) => admin.setFaults({ throttleRate: 1 }).then(() => status(c)),
      },
      {
        what: "an unreachable cloud",
        code: "Unavailable",
        call: (c) => create(c, { endpoint: "http://127.0.0.1:9" }),
      },
      {
        what: "an injected cloud failure",
        code: "Internal",
        call: (c) => admin.setFaults({ failureRate: 1 }).then(() => create(c)),
      },
      {
        what: "a wrong token",
        code: "Unauthenticated",
        call: (c) => create(c, {}, driver, { ...secret, virtualCloudToken: Buffer.from("wrong") }),
      },
    ],
  };
});

afterAll(async () => {
  await cloud?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("virtual plugin", () => {
  driverConformance(() => {
    if (!target) throw new Error("the virtual cloud did not start");
    return target;
  });
});
