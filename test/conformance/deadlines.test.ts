import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MachineClass } from "../../src/api/index.ts";
import type { SecretData } from "../../src/driver/driver.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { HungServer } from "../env/hung-server.ts";
import { failureOf, testMachine } from "./suite.ts";

/**
 * Every plugin against a cloud endpoint that accepts connections and never answers: the call ends
 * at the registry's deadline with DeadlineExceeded, and the plugin closes its connection (it passed
 * the call's signal down to its cloud requests) instead of leaving it hanging.
 */
let hung: HungServer;
beforeAll(async () => {
  hung = await HungServer.start();
});
afterAll(async () => {
  await hung.stop();
});

interface Case {
  readonly provider: string;
  readonly env: (endpoint: string) => Record<string, string>;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

const cases: Case[] = [
  {
    provider: "virtual",
    env: (endpoint) => ({ SPROUT_VIRTUAL_CLOUD_ENDPOINT: endpoint }),
    machineClass: { provider: "virtual", providerSpec: { machineType: "small", zone: "zone-a" } },
    secret: { userData: Buffer.from("#cloud-config\n") },
  },
  {
    provider: "AWS",
    env: (endpoint) => ({ AWS_ENDPOINT_URL_EC2: endpoint }),
    machineClass: {
      provider: "AWS",
      providerSpec: {
        ami: "ami-0123456789abcdef0",
        region: "eu-west-1",
        machineType: "m5.large",
        iam: { name: "nodes" },
        networkInterfaces: [
          { subnetID: "subnet-0123456789abcdef0", securityGroupIDs: ["sg-0123456789abcdef0"] },
        ],
        tags: { "kubernetes.io/cluster/hung": "1", "kubernetes.io/role/node": "1" },
      },
    },
    secret: {
      providerAccessKeyId: Buffer.from("AKIASPROUTHUNGTEST00"),
      providerSecretAccessKey: Buffer.from("hung-endpoint-secret-key-0000000000000000"),
      userData: Buffer.from("#cloud-config\n"),
    },
  },
  {
    provider: "Azure",
    env: (endpoint) => ({
      SPROUT_AZURE_ENDPOINT: endpoint.replace(/^http:/, "https:"),
      AZURE_AUTHORITY_HOST: endpoint.replace(/^http:/, "https:"),
    }),
    machineClass: {
      provider: "Azure",
      providerSpec: {
        location: "westeurope",
        resourceGroup: "shoot--hung--test",
        subnetInfo: { vnetName: "shoot--hung--test", subnetName: "shoot--hung--test-nodes" },
        tags: { "kubernetes.io-cluster-shoot--hung--test": "1", "kubernetes.io-role-node": "1" },
        properties: {
          hardwareProfile: { vmSize: "Standard_D2s_v5" },
          storageProfile: { imageReference: { urn: "sap:gardenlinux:greatest:1877.5.0" } },
          osProfile: { adminUsername: "core" },
        },
      },
    },
    secret: {
      clientID: Buffer.from("00000000-0000-0000-0000-00000000c11e"),
      clientSecret: Buffer.from("hung-endpoint-client-secret-000000000000"),
      subscriptionID: Buffer.from("00000000-0000-0000-0000-000000005b5c"),
      tenantID: Buffer.from("00000000-0000-0000-0000-000000007e17"),
      userData: Buffer.from("#cloud-config\n"),
    },
  },
];

describe("driver calls against a cloud that never answers", () => {
  it.each(cases)(
    "$provider: ends at the deadline with DeadlineExceeded and closes its connection",
    async (c) => {
      const registry = new DriverRegistry({ context: { env: c.env(hung.url) }, callTimeoutMs: 300 });
      const driver = await registry.driverFor(c.provider);
      const before = hung.closedByClient;
      const req = { machine: testMachine("hung"), machineClass: c.machineClass, secret: c.secret };
      for (const call of [
        driver.getMachineStatus(req),
        driver.createMachine(req),
        driver.deleteMachine(req),
      ]) {
        const err = await failureOf(call);
        expect(err.code, err.message).toBe("DeadlineExceeded");
      }
      await hung.closed(before + 3);
    },
  );
});
