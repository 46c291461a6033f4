import { describe, expect, it } from "vitest";
import { MachineError } from "sprout/driver";
import { clusterTags, parseProviderSpec } from "./provider-spec.ts";

const valid = {
  ami: "ami-0123456789abcdef0",
  region: "eu-west-1",
  machineType: "m5.large",
  iam: { name: "nodes" },
  networkInterfaces: [{ subnetID: "subnet-1", securityGroupIDs: ["sg-1"] }],
  blockDevices: [{ ebs: { volumeSize: 50, volumeType: "gp3" } }],
  tags: { "kubernetes.io/cluster/shoot--p--c": "1", "kubernetes.io/role/node": "1" },
};

const problemsOf = (spec: unknown): string => {
  try {
    parseProviderSpec(spec);
  } catch (err) {
    expect(err).toBeInstanceOf(MachineError);
    expect((err as MachineError).code).toBe("InvalidArgument");
    return (err as MachineError).message;
  }
  throw new Error("expected the spec to be rejected");
};

describe("AWS providerSpec", () => {
  it("accepts a Gardener AWS providerSpec and keeps absent fields absent", () => {
    const spec = parseProviderSpec({
      ...valid,
      keyName: "ssh",
      spotPrice: "",
      srcAndDstChecksEnabled: false,
      instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
      capacityReservation: { capacityReservationId: "cr-1" },
      unknownField: "ignored, as Gardener's decoder does",
    });
    expect(spec).toMatchObject({
      ami: valid.ami,
      keyName: "ssh",
      spotPrice: "",
      srcAndDstChecksEnabled: false,
    });
    expect(spec.instanceMetadataOptions).toEqual({ httpTokens: "required", httpPutResponseHopLimit: 2 });
    expect("placement" in spec).toBe(false);
    expect(spec.networkInterfaces[0]).toEqual({ subnetID: "subnet-1", securityGroupIDs: ["sg-1"] });
    expect(clusterTags(spec)).toEqual({
      cluster: "kubernetes.io/cluster/shoot--p--c",
      role: "kubernetes.io/role/node",
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["no ami", { ami: undefined }, "providerSpec.ami: required"],
    ["no region", { region: "" }, "providerSpec.region: required"],
    ["a numeric machineType", { machineType: 5 }, "providerSpec.machineType: must be a string"],
    ["no iam", { iam: undefined }, "providerSpec.iam: set exactly one of iam.name and iam.arn"],
    ["iam name and arn", { iam: { name: "a", arn: "arn:b" } }, "set exactly one of iam.name and iam.arn"],
    ["no network interface", { networkInterfaces: [] }, "providerSpec.networkInterfaces: required"],
    [
      "a network interface without subnet",
      { networkInterfaces: [{ securityGroupIDs: ["sg-1"] }] },
      "providerSpec.networkInterfaces[0].subnetID: required",
    ],
    [
      "an empty security group ID",
      { networkInterfaces: [{ subnetID: "s", securityGroupIDs: [""] }] },
      "providerSpec.networkInterfaces[0].securityGroupIDs: required",
    ],
    [
      "an unknown volume type",
      { blockDevices: [{ ebs: { volumeSize: 10, volumeType: "ssd" } }] },
      "providerSpec.blockDevices[0].ebs.volumeType: must be one of gp2, gp3",
    ],
    [
      "a zero volume size",
      { blockDevices: [{ ebs: { volumeSize: 0, volumeType: "gp3" } }] },
      "providerSpec.blockDevices[0].ebs.volumeSize",
    ],
    [
      "io1 without iops",
      { blockDevices: [{ ebs: { volumeSize: 10, volumeType: "io1" } }] },
      "providerSpec.blockDevices[0].ebs.iops: required for volume type io1",
    ],
    [
      "two devices without a root",
      {
        blockDevices: [
          { deviceName: "/dev/sdb", ebs: { volumeSize: 10, volumeType: "gp3" } },
          { deviceName: "/dev/sdc", ebs: { volumeSize: 10, volumeType: "gp3" } },
        ],
      },
      "providerSpec.blockDevices: exactly one device must be the root device",
    ],
    [
      "a badly named data device",
      {
        blockDevices: [
          { deviceName: "/root", ebs: { volumeSize: 10, volumeType: "gp3" } },
          { deviceName: "sdb", ebs: { volumeSize: 10, volumeType: "gp3" } },
        ],
      },
      "providerSpec.blockDevices[1].deviceName: must match",
    ],
    [
      "no cluster tag",
      { tags: { "kubernetes.io/role/node": "1" } },
      "needs a tag kubernetes.io/cluster/<cluster name>",
    ],
    ["no role tag", { tags: { "kubernetes.io/cluster/c": "1" } }, "needs a tag kubernetes.io/role/<role>"],
    ["a numeric spotPrice", { spotPrice: 0.5 }, "providerSpec.spotPrice: must be a string"],
    [
      "a hop limit out of range",
      { instanceMetadataOptions: { httpPutResponseHopLimit: 65 } },
      "providerSpec.instanceMetadataOptions.httpPutResponseHopLimit: must be an integer from 1 to 64",
    ],
    [
      "unknown httpTokens",
      { instanceMetadataOptions: { httpTokens: "sometimes" } },
      "providerSpec.instanceMetadataOptions.httpTokens: must be one of required, optional",
    ],
    [
      "a reservation given two ways",
      { capacityReservation: { capacityReservationPreference: "open", capacityReservationId: "cr-1" } },
      "providerSpec.capacityReservation: set only one of",
    ],
    [
      "three threads per core",
      { cpuOptions: { coreCount: 2, threadsPerCore: 3 } },
      "cpuOptions.threadsPerCore",
    ],
    [
      "a string srcAndDstChecksEnabled",
      { srcAndDstChecksEnabled: "false" },
      "srcAndDstChecksEnabled: must be true or false",
    ],
  ])("rejects %s, naming the field", (_, change, expected) => {
    expect(problemsOf({ ...valid, ...change })).toContain(expected);
  });

  it("reports every problem at once", () => {
    const message = problemsOf({ tags: {} });
    for (const field of ["ami", "region", "machineType", "iam", "networkInterfaces", "tags"]) {
      expect(message).toContain(`providerSpec.${field}`);
    }
  });

  it("rejects a providerSpec that is not an object", () => {
    expect(problemsOf("ami-1")).toBe("providerSpec: must be an object");
  });
});
