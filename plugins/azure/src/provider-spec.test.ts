import { describe, expect, it } from "vitest";
import { MachineError } from "sprout/driver";
import { credentialsOf } from "./credentials.ts";
import { clusterTags, parseProviderSpec } from "./provider-spec.ts";
import { dataDiskName, vmNameOf } from "./vm-input.ts";

/** A providerSpec as Gardener's Azure extension renders it. */
const gardener = (): Record<string, unknown> => ({
  location: "westeurope",
  resourceGroup: "shoot--core--azure",
  subnetInfo: { vnetName: "shoot--core--azure", subnetName: "shoot--core--azure-nodes" },
  tags: {
    Name: "shoot--core--azure",
    "kubernetes.io-cluster-shoot--core--azure": "1",
    "kubernetes.io-role-node": "1",
    "worker.gardener.cloud_pool": "cpu",
  },
  properties: {
    hardwareProfile: { vmSize: "Standard_D4s_v5" },
    storageProfile: {
      imageReference: { urn: "sap:gardenlinux:greatest:1877.5.0" },
      osDisk: {
        caching: "None",
        diskSizeGB: 50,
        managedDisk: { storageAccountType: "Premium_LRS" },
        createOption: "FromImage",
      },
      dataDisks: [
        {
          name: "containerd",
          lun: 0,
          caching: "None",
          diskSizeGB: 100,
          storageAccountType: "StandardSSD_LRS",
        },
      ],
    },
    osProfile: {
      adminUsername: "core",
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: { path: "/home/core/.ssh/authorized_keys", keyData: "ssh-ed25519 AAAA" } },
      },
    },
    networkProfile: { acceleratedNetworking: true },
    zone: 2,
    securityProfile: {
      securityType: "TrustedLaunch",
      uefiSettings: { vtpmEnabled: true, secureBootEnabled: true },
    },
  },
});

const problems = (raw: unknown): string => {
  try {
    parseProviderSpec(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(MachineError);
    expect((err as MachineError).code).toBe("InvalidArgument");
    return (err as MachineError).message;
  }
  throw new Error("expected the spec to be refused");
};

describe("Azure providerSpec", () => {
  it("reads Gardener's spec unchanged", () => {
    const spec = parseProviderSpec(gardener());
    expect(spec).toMatchObject({
      location: "westeurope",
      vmSize: "Standard_D4s_v5",
      zone: 2,
      acceleratedNetworking: true,
      image: { urn: "sap:gardenlinux:greatest:1877.5.0" },
      osProfile: { adminUsername: "core", sshPublicKey: { path: "/home/core/.ssh/authorized_keys" } },
      securityProfile: { securityType: "TrustedLaunch", vtpmEnabled: true, secureBootEnabled: true },
    });
    expect(clusterTags(spec)).toEqual({
      cluster: "kubernetes.io-cluster-shoot--core--azure",
      role: "kubernetes.io-role-node",
    });
    const [disk] = spec.dataDisks;
    if (!disk) throw new Error("no data disk");
    expect(dataDiskName("m-1", disk)).toBe("m-1-containerd-0-data-disk");
    expect(vmNameOf("microsoft.compute/disks", "m-1-containerd-0-data-disk", spec)).toBe("m-1");
    expect(vmNameOf("microsoft.network/networkinterfaces", "m-1-nic", spec)).toBe("m-1");
    expect(vmNameOf("microsoft.compute/disks", "m-1-os-disk", spec)).toBe("m-1");
    expect(vmNameOf("microsoft.compute/disks", "unrelated", spec)).toBeUndefined();
  });

  it.each<[string, (s: Record<string, unknown>) => void, RegExp]>([
    ["location", (s) => delete s.location, /providerSpec\.location: required/],
    ["subnet", (s) => (s.subnetInfo = { vnetName: "v" }), /providerSpec\.subnetInfo\.subnetName: required/],
    [
      "cluster tag",
      (s) => (s.tags = { "kubernetes.io-role-node": "1" }),
      /providerSpec\.tags: a tag whose key starts with kubernetes\.io-cluster-/,
    ],
    [
      "vmSize",
      (s) => ((s.properties as { hardwareProfile: unknown }).hardwareProfile = {}),
      /properties\.hardwareProfile\.vmSize: required/,
    ],
    [
      "urn",
      (s) =>
        ((s.properties as { storageProfile: { imageReference: unknown } }).storageProfile.imageReference = {
          urn: "a:b",
        }),
      /imageReference\.urn: must be publisher:offer:sku:version/,
    ],
    [
      "two images",
      (s) =>
        ((s.properties as { storageProfile: { imageReference: unknown } }).storageProfile.imageReference = {
          urn: "a:b:c:d",
          id: "/x",
        }),
      /imageReference: exactly one of/,
    ],
    [
      "zone and set",
      (s) => ((s.properties as Record<string, unknown>).availabilitySet = { id: "/as" }),
      /only one of zone, availabilitySet/,
    ],
    [
      "cloud",
      (s) => (s.cloudConfiguration = { name: "Mars" }),
      /cloudConfiguration\.name: must be one of AzurePublic/,
    ],
    [
      "security type",
      (s) => ((s.properties as { securityProfile: unknown }).securityProfile = { securityType: "Hard" }),
      /securityProfile\.securityType: must be one of/,
    ],
    [
      "lun twice",
      (s) =>
        (s.properties as { storageProfile: { dataDisks: unknown[] } }).storageProfile.dataDisks.push({
          lun: 0,
          diskSizeGB: 1,
          storageAccountType: "x",
        }),
      /dataDisks\[1\]\.lun: lun 0 is used twice/,
    ],
  ])("names the field when %s is wrong", (_what, change, message) => {
    const spec = gardener();
    change(spec);
    expect(problems(spec)).toMatch(message);
  });

  it("reads the Secret's keys, the deprecated aliases, and workload identity", () => {
    const b = (s: string) => Buffer.from(s);
    expect(
      credentialsOf({ clientID: b("c"), clientSecret: b("s"), subscriptionID: b("u"), tenantID: b("t") }),
    ).toEqual({
      clientID: "c",
      clientSecret: "s",
      subscriptionID: "u",
      tenantID: "t",
    });
    expect(
      credentialsOf({
        azureClientId: b("c"),
        azureClientSecret: b("s"),
        azureSubscriptionId: b("u"),
        azureTenantId: b("t"),
      }),
    ).toMatchObject({ clientID: "c" });
    expect(
      credentialsOf({
        clientID: b("c"),
        workloadIdentityTokenFile: b("/var/run/token"),
        subscriptionID: b("u"),
        tenantID: b("t"),
      }),
    ).toMatchObject({ workloadIdentityTokenFile: "/var/run/token" });
    expect(() =>
      credentialsOf({
        clientID: b("c"),
        clientSecret: b("s"),
        workloadIdentityTokenFile: b("/t"),
        subscriptionID: b("u"),
        tenantID: b("t"),
      }),
    ).toThrow(/mutually exclusive/);
    expect(() => credentialsOf({})).toThrow(
      /clientID \(or azureClientId\) is required; tenantID \(or azureTenantId\) is required/,
    );
  });
});
