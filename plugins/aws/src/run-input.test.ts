import { describe, expect, it } from "vitest";
import { instanceIdOf, providerIdOf, volumeIdsOf } from "./ids.ts";
import { parseProviderSpec } from "./provider-spec.ts";
import { runInstancesInput } from "./run-input.ts";

const spec = (extra: Record<string, unknown> = {}) =>
  parseProviderSpec({
    ami: "ami-1",
    region: "eu-west-1",
    machineType: "m5.large",
    iam: { arn: "arn:aws:iam::1:instance-profile/nodes" },
    networkInterfaces: [
      { subnetID: "subnet-1", securityGroupIDs: ["sg-1", "sg-2"], associatePublicIPAddress: false },
    ],
    tags: { "kubernetes.io/cluster/c": "1", "kubernetes.io/role/node": "1", Name: "ignored" },
    ...extra,
  });

describe("RunInstances input", () => {
  it("maps the providerSpec field by field", () => {
    const input = runInstancesInput({
      spec: spec({
        keyName: "ssh",
        spotPrice: "0.05",
        blockDevices: [
          { deviceName: "/root", ebs: { volumeSize: 50, volumeType: "gp3", throughput: 200 } },
          {
            deviceName: "/dev/sdb",
            ebs: { volumeSize: 100, volumeType: "io1", iops: 3000, deleteOnTermination: false },
          },
        ],
        instanceMetadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        capacityReservation: { capacityReservationResourceGroupArn: "arn:group" },
        placement: { tenancy: "dedicated" },
      }),
      machineName: "m-1",
      userData: Buffer.from("#cloud-config\n"),
      clientToken: "token",
      rootDeviceName: "/dev/xvda",
    });
    expect(input).toMatchObject({
      ImageId: "ami-1",
      InstanceType: "m5.large",
      MinCount: 1,
      MaxCount: 1,
      ClientToken: "token",
      UserData: Buffer.from("#cloud-config\n").toString("base64"),
      KeyName: "ssh",
      IamInstanceProfile: { Arn: "arn:aws:iam::1:instance-profile/nodes" },
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          SubnetId: "subnet-1",
          Groups: ["sg-1", "sg-2"],
          DeleteOnTermination: true,
          AssociatePublicIpAddress: false,
        },
      ],
      BlockDeviceMappings: [
        {
          DeviceName: "/dev/xvda",
          Ebs: { VolumeSize: 50, VolumeType: "gp3", Throughput: 200, DeleteOnTermination: true },
        },
        {
          DeviceName: "/dev/sdb",
          Ebs: { VolumeSize: 100, VolumeType: "io1", Iops: 3000, DeleteOnTermination: false },
        },
      ],
      InstanceMarketOptions: {
        MarketType: "spot",
        SpotOptions: { SpotInstanceType: "one-time", MaxPrice: "0.05" },
      },
      MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
      CapacityReservationSpecification: {
        CapacityReservationTarget: { CapacityReservationResourceGroupArn: "arn:group" },
      },
      Placement: { Tenancy: "dedicated" },
    });
    const tags = input.TagSpecifications?.map((t) => t.ResourceType);
    expect(tags).toEqual(["instance", "volume", "network-interface"]);
    expect(input.TagSpecifications?.[0]?.Tags).toEqual([
      { Key: "kubernetes.io/cluster/c", Value: "1" },
      { Key: "kubernetes.io/role/node", Value: "1" },
      { Key: "Name", Value: "m-1" },
    ]);
  });

  it("uses the image's root device for a single device, and leaves optional parts out", () => {
    const input = runInstancesInput({
      spec: spec({ blockDevices: [{ ebs: { volumeSize: 20, volumeType: "gp2" } }], spotPrice: "" }),
      machineName: "m",
      userData: Buffer.from("x"),
      clientToken: "t",
      rootDeviceName: "/dev/sda1",
    });
    expect(input.BlockDeviceMappings?.[0]?.DeviceName).toBe("/dev/sda1");
    expect(input.InstanceMarketOptions?.SpotOptions).toEqual({ SpotInstanceType: "one-time" });
    for (const key of [
      "KeyName",
      "MetadataOptions",
      "CapacityReservationSpecification",
      "Placement",
      "CpuOptions",
    ]) {
      expect(input).not.toHaveProperty(key);
    }
  });
});

describe("providerIDs and volume IDs", () => {
  it("writes aws:///<zone>/<id> and reads the zone and region forms", () => {
    expect(providerIdOf("eu-west-1a", "i-0abc")).toBe("aws:///eu-west-1a/i-0abc");
    expect(instanceIdOf("aws:///eu-west-1a/i-0abc")).toBe("i-0abc");
    expect(instanceIdOf("aws:///eu-west-1/i-0abc")).toBe("i-0abc");
    expect(instanceIdOf("virtual:///zone-a/vm-1")).toBeUndefined();
    expect(instanceIdOf("aws:///eu-west-1a/")).toBeUndefined();
    expect(instanceIdOf(undefined)).toBeUndefined();
  });

  it("finds EBS CSI and in-tree EBS volumes and leaves the others out", () => {
    expect(
      volumeIdsOf([
        { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0a" } },
        { csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-1" } },
        { awsElasticBlockStore: { volumeID: "aws://eu-west-1a/vol-0b" } },
        { awsElasticBlockStore: { volumeID: "vol-0c" } },
        { awsElasticBlockStore: { volumeID: "aws://eu-west-1a/snap-1" } },
        { nfs: { server: "x", path: "/" } },
      ]),
    ).toEqual(["vol-0a", "vol-0b", "vol-0c"]);
  });
});
