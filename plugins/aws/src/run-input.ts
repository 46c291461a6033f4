import type {
  _InstanceType,
  BlockDeviceMapping,
  InstanceNetworkInterfaceSpecification,
  RunInstancesCommandInput,
  Tag,
  TagSpecification,
} from "@aws-sdk/client-ec2";
import { type AwsProviderSpec, NAME_TAG, ROOT_DEVICE_NAME } from "./provider-spec.ts";

/** Tags for the instance and what it creates (volumes, network interfaces): the spec's plus Name. */
export function tagsFor(spec: AwsProviderSpec, machineName: string): Tag[] {
  return [
    ...Object.entries(spec.tags)
      .filter(([key]) => key !== NAME_TAG)
      .map(([Key, Value]) => ({ Key, Value })),
    { Key: NAME_TAG, Value: machineName },
  ];
}

function tagSpecifications(spec: AwsProviderSpec, machineName: string): TagSpecification[] {
  const tags = tagsFor(spec, machineName);
  return (["instance", "volume", "network-interface"] as const).map((ResourceType) => ({
    ResourceType,
    Tags: tags,
  }));
}

function blockDeviceMappings(
  spec: AwsProviderSpec,
  rootDeviceName: string | undefined,
): BlockDeviceMapping[] {
  return spec.blockDevices.map((disk) => {
    const isRoot = disk.deviceName === ROOT_DEVICE_NAME || spec.blockDevices.length === 1;
    const ebs = disk.ebs;
    return {
      DeviceName: isRoot ? (rootDeviceName ?? "/dev/xvda") : disk.deviceName,
      Ebs: {
        VolumeSize: ebs.volumeSize,
        VolumeType: ebs.volumeType as NonNullable<BlockDeviceMapping["Ebs"]>["VolumeType"],
        DeleteOnTermination: ebs.deleteOnTermination ?? true,
        Encrypted: ebs.encrypted ?? false,
        ...(ebs.iops ? { Iops: ebs.iops } : {}),
        ...(ebs.throughput ? { Throughput: ebs.throughput } : {}),
        ...(ebs.kmsKeyID ? { KmsKeyId: ebs.kmsKeyID } : {}),
        ...(ebs.snapshotID ? { SnapshotId: ebs.snapshotID } : {}),
      },
    };
  });
}

function networkInterfaces(spec: AwsProviderSpec): InstanceNetworkInterfaceSpecification[] {
  return spec.networkInterfaces.map((ni, i) => ({
    DeviceIndex: ni.deviceIndex ?? i,
    SubnetId: ni.subnetID,
    Groups: [...ni.securityGroupIDs],
    DeleteOnTermination: ni.deleteOnTermination ?? true,
    ...(ni.associatePublicIPAddress === undefined
      ? {}
      : { AssociatePublicIpAddress: ni.associatePublicIPAddress }),
    ...(ni.description === undefined ? {} : { Description: ni.description }),
    ...(ni.ipv6AddressCount === undefined ? {} : { Ipv6AddressCount: ni.ipv6AddressCount }),
    ...(ni.ipv6PrefixCount === undefined ? {} : { Ipv6PrefixCount: ni.ipv6PrefixCount }),
    ...(ni.interfaceType === undefined ? {} : { InterfaceType: ni.interfaceType }),
    ...(ni.networkCardIndex === undefined ? {} : { NetworkCardIndex: ni.networkCardIndex }),
  }));
}

function capacityReservation(spec: AwsProviderSpec): Partial<RunInstancesCommandInput> {
  const cr = spec.capacityReservation;
  if (!cr) return {};
  if (cr.capacityReservationPreference) {
    return {
      CapacityReservationSpecification: {
        CapacityReservationPreference: cr.capacityReservationPreference as "open" | "none",
      },
    };
  }
  const target = cr.capacityReservationId
    ? { CapacityReservationId: cr.capacityReservationId }
    : cr.capacityReservationResourceGroupArn
      ? { CapacityReservationResourceGroupArn: cr.capacityReservationResourceGroupArn }
      : undefined;
  return target ? { CapacityReservationSpecification: { CapacityReservationTarget: target } } : {};
}

function metadataOptions(spec: AwsProviderSpec): Partial<RunInstancesCommandInput> {
  const m = spec.instanceMetadataOptions;
  if (!m) return {};
  type Options = NonNullable<RunInstancesCommandInput["MetadataOptions"]>;
  return {
    MetadataOptions: {
      ...(m.httpEndpoint ? { HttpEndpoint: m.httpEndpoint as Options["HttpEndpoint"] } : {}),
      ...(m.httpTokens ? { HttpTokens: m.httpTokens as Options["HttpTokens"] } : {}),
      ...(m.httpPutResponseHopLimit ? { HttpPutResponseHopLimit: m.httpPutResponseHopLimit } : {}),
      ...(m.httpProtocolIpv6 ? { HttpProtocolIpv6: m.httpProtocolIpv6 as Options["HttpProtocolIpv6"] } : {}),
    },
  };
}

function placement(spec: AwsProviderSpec): Partial<RunInstancesCommandInput> {
  const p = spec.placement;
  if (!p) return {};
  type Placement = NonNullable<RunInstancesCommandInput["Placement"]>;
  return {
    Placement: {
      ...(p.groupId ? { GroupId: p.groupId } : {}),
      ...(p.tenancy ? { Tenancy: p.tenancy as Placement["Tenancy"] } : {}),
      ...(p.hostId ? { HostId: p.hostId } : {}),
      ...(p.partitionNumber ? { PartitionNumber: p.partitionNumber } : {}),
      ...(p.affinity ? { Affinity: p.affinity } : {}),
    },
  };
}

/**
 * The RunInstances request for one machine: the providerSpec mapped field by field, the user data,
 * the Name tag on everything it creates, and an idempotency token.
 */
export function runInstancesInput(opts: {
  spec: AwsProviderSpec;
  machineName: string;
  userData: Buffer;
  clientToken: string;
  rootDeviceName: string | undefined;
}): RunInstancesCommandInput {
  const { spec } = opts;
  return {
    ImageId: spec.ami,
    InstanceType: spec.machineType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: opts.clientToken,
    UserData: opts.userData.toString("base64"),
    IamInstanceProfile: spec.iam.name ? { Name: spec.iam.name } : { Arn: spec.iam.arn },
    NetworkInterfaces: networkInterfaces(spec),
    TagSpecifications: tagSpecifications(spec, opts.machineName),
    ...(spec.blockDevices.length > 0
      ? { BlockDeviceMappings: blockDeviceMappings(spec, opts.rootDeviceName) }
      : {}),
    ...(spec.keyName ? { KeyName: spec.keyName } : {}),
    ...(spec.spotPrice === undefined
      ? {}
      : {
          InstanceMarketOptions: {
            MarketType: "spot",
            SpotOptions: {
              SpotInstanceType: "one-time",
              ...(spec.spotPrice === "" ? {} : { MaxPrice: spec.spotPrice }),
            },
          },
        }),
    ...(spec.ebsOptimized === undefined ? {} : { EbsOptimized: spec.ebsOptimized }),
    ...(spec.monitoring === undefined ? {} : { Monitoring: { Enabled: spec.monitoring } }),
    ...(spec.cpuOptions
      ? {
          CpuOptions: {
            CoreCount: spec.cpuOptions.coreCount,
            ThreadsPerCore: spec.cpuOptions.threadsPerCore,
          },
        }
      : {}),
    ...metadataOptions(spec),
    ...capacityReservation(spec),
    ...placement(spec),
  };
}
