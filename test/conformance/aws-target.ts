import { randomBytes } from "node:crypto";
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type Filter,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { MachineClass } from "../../src/api/index.ts";
import type { Driver, SecretData } from "../../src/driver/driver.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import {
  awsProviderSpec,
  type Ec2World,
  liveInstances,
  prepareEc2World,
  rawEc2,
  userWithoutRights,
} from "../env/aws.ts";
import { Ec2FaultProxy } from "../env/ec2-faults.ts";
import { type ConformanceTarget, type DependentsTarget, type ErrorCase, testMachine } from "./suite.ts";

/** An EC2 emulator the AWS plugin is tested against. */
export interface AwsBackend {
  /** e.g. "moto 5.2.5". */
  readonly label: string;
  readonly endpoint: string;
  /** Switches IAM enforcement on and off; unset when the emulator cannot, and auth failures are injected. */
  readonly enforceIam?: (on: boolean) => Promise<void>;
}

export interface AwsConformance {
  readonly target: ConformanceTarget;
  readonly world: Ec2World;
  readonly proxy: Ec2FaultProxy;
  /** Straight to the emulator, past the proxy. */
  readonly ec2: EC2Client;
  readonly driver: Driver;
  readonly secret: SecretData;
  machineClass(cluster: string, providerSpec?: Record<string, unknown>): MachineClass;
  close(): Promise<void>;
}

export const REGION = "eu-west-1";
/** DescribeInstances' smallest page: listing a cluster of 11 instances takes 3 pages. */
const PAGE_SIZE = 5;
export const USER_DATA = "#cloud-config\nruncmd:\n- echo joined by sprout\n";

/** Sets up the emulated world, the fault proxy in front of the emulator and the plugin as the registry loads it. */
export async function awsConformance(backend: AwsBackend): Promise<AwsConformance> {
  const world = await prepareEc2World(backend.endpoint, REGION);
  const proxy = await Ec2FaultProxy.start(backend.endpoint);
  const registry = new DriverRegistry({
    context: { env: { AWS_ENDPOINT_URL_EC2: proxy.endpoint, SPROUT_AWS_PAGE_SIZE: String(PAGE_SIZE) } },
  });
  const driver = await registry.driverFor("AWS");
  const unreachable = await new DriverRegistry({
    context: { env: { AWS_ENDPOINT_URL_EC2: "http://127.0.0.1:9" } },
  }).driverFor("AWS");
  const ec2 = rawEc2(backend.endpoint, REGION);
  const secret: SecretData = {
    providerAccessKeyId: Buffer.from("AKIASPROUTCONFORMANCE"),
    providerSecretAccessKey: Buffer.from(randomBytes(20).toString("hex")),
    userData: Buffer.from(USER_DATA),
  };
  const machineClass = (cluster: string, overrides: Record<string, unknown> = {}): MachineClass => ({
    provider: "AWS",
    providerSpec: { ...awsProviderSpec(world, cluster), ...overrides },
  });
  let iamOn = false;
  const withIam = async (call: () => Promise<unknown>): Promise<unknown> => {
    if (!backend.enforceIam) throw new Error("the emulator cannot enforce IAM");
    iamOn = true;
    await backend.enforceIam(true);
    return call();
  };
  const create = (cluster: string, spec: Record<string, unknown> = {}, s: SecretData = secret) =>
    driver.createMachine({
      machine: testMachine(`err-${randomBytes(3).toString("hex")}`),
      machineClass: machineClass(cluster, spec),
      secret: s,
    });
  const status = (cluster: string, s: SecretData = secret, d: Driver = driver) =>
    d.getMachineStatus({
      machine: testMachine("err-status"),
      machineClass: machineClass(cluster),
      secret: s,
    });
  const inject = (code: string, action: string) => proxy.inject({ action, code });
  const noRights = backend.enforceIam ? await userWithoutRights(backend.endpoint, "no-rights") : undefined;

  const errorCases: ErrorCase[] = [
    {
      what: "a providerSpec without subnet",
      code: "InvalidArgument",
      call: (c) => create(c, { networkInterfaces: [{ securityGroupIDs: [world.securityGroupId] }] }),
      message: /providerSpec\.networkInterfaces\[0\]\.subnetID: required/,
    },
    {
      what: "an instance type EC2 does not offer",
      code: "InvalidArgument",
      call: (c) => create(c, { machineType: "m99.huge" }),
      message: /providerSpec\.machineType/,
    },
    {
      what: "a Secret without credentials",
      code: "InvalidArgument",
      call: (c) => create(c, {}, { userData: Buffer.from(USER_DATA) }),
      message: /providerAccessKeyId \(or accessKeyID\)/,
    },
    {
      what: "an image that does not exist",
      code: "NotFound",
      call: (c) => create(c, { ami: "ami-00000000deadbeef" }),
      message: /providerSpec\.ami/,
    },
    {
      what: "a subnet that does not exist",
      code: "NotFound",
      call: (c) =>
        create(c, {
          networkInterfaces: [
            { subnetID: "subnet-00000000deadbeef", securityGroupIDs: [world.securityGroupId] },
          ],
        }),
      message: /providerSpec\.networkInterfaces\[\]\.subnetID/,
    },
    {
      what: "InsufficientInstanceCapacity",
      code: "ResourceExhausted",
      call: (c) => (inject("InsufficientInstanceCapacity", "RunInstances"), create(c)),
      message: /InsufficientInstanceCapacity.*providerSpec\.machineType/,
    },
    {
      what: "a vCPU quota reached",
      code: "ResourceExhausted",
      call: (c) => (inject("VcpuLimitExceeded", "RunInstances"), create(c)),
    },
    {
      what: "throttling that outlasts the backoff",
      code: "Unavailable",
      call: (c) => (inject("RequestLimitExceeded", "DescribeInstances"), status(c)),
      message: /RequestLimitExceeded/,
    },
    {
      what: "an unreachable endpoint",
      code: "Unavailable",
      call: (c) => status(c, secret, unreachable),
      message: /unreachable/,
    },
    {
      what: "an internal EC2 error",
      code: "Internal",
      call: (c) => (inject("InternalError", "RunInstances"), create(c)),
    },
    backend.enforceIam
      ? {
          what: "credentials EC2 does not know",
          code: "Unauthenticated",
          call: (c) => withIam(() => status(c)),
          message: /AuthFailure/,
        }
      : {
          what: "credentials EC2 does not know (AuthFailure injected)",
          code: "Unauthenticated",
          call: (c) => (inject("AuthFailure", "DescribeInstances"), status(c)),
        },
    noRights
      ? {
          what: "credentials without EC2 rights",
          code: "PermissionDenied",
          call: (c) =>
            withIam(() =>
              status(c, {
                providerAccessKeyId: Buffer.from(noRights.accessKeyId),
                providerSecretAccessKey: Buffer.from(noRights.secretAccessKey),
              }),
            ),
        }
      : {
          what: "credentials without EC2 rights (UnauthorizedOperation injected)",
          code: "PermissionDenied",
          call: (c) => (inject("UnauthorizedOperation", "DescribeInstances"), status(c)),
        },
  ];

  const named = (cluster: string, name: string): Filter[] => [
    { Name: "tag:Name", Values: [name] },
    { Name: "tag-key", Values: [`kubernetes.io/cluster/${cluster}`] },
  ];
  const vmsNamed = async (cluster: string, name: string): Promise<string[]> =>
    (await liveInstances(ec2, named(cluster, name))).map((i) => i.InstanceId ?? "");
  const terminate = async (ids: string[]): Promise<void> => {
    if (ids.length > 0) await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  };

  const dependents: DependentsTarget = {
    // EC2 deletes what RunInstances made with the instance unless told otherwise: these outlive it.
    providerSpec: {
      networkInterfaces: [
        { subnetID: world.subnetId, securityGroupIDs: [world.securityGroupId], deleteOnTermination: false },
      ],
      blockDevices: [{ ebs: { volumeSize: 20, volumeType: "gp3", deleteOnTermination: false } }],
    },
    // Tagged with the machine (as EC2 tags what RunInstances makes), or attached to one of its
    // instances in any state (the emulators do not tag network interfaces made by RunInstances).
    async of(cluster, name) {
      const all = await ec2.send(new DescribeInstancesCommand({ Filters: named(cluster, name) }));
      const ids = (all.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId ?? "");
      const queries = [
        named(cluster, name),
        ...(ids.length > 0 ? [[{ Name: "attachment.instance-id", Values: ids }]] : []),
      ];
      const found = new Set<string>();
      for (const Filters of queries) {
        const nis = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters }));
        for (const ni of nis.NetworkInterfaces ?? []) found.add(ni.NetworkInterfaceId ?? "");
        const vols = await ec2.send(new DescribeVolumesCommand({ Filters }));
        for (const v of vols.Volumes ?? []) found.add(v.VolumeId ?? "");
      }
      return [...found];
    },
    // EC2 answers RunInstances and then terminates the instance at launch, as it does when the
    // capacity it counted on is gone.
    failNextCreateHalfway() {
      proxy.inject({
        action: "RunInstances",
        times: 1,
        afterwards: (answer) =>
          terminate([/<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(answer)?.[1] ?? ""].filter(Boolean)),
      });
      return Promise.resolve();
    },
    async removeVmOnly(cluster, name) {
      await terminate(await vmsNamed(cluster, name));
    },
  };

  const target: ConformanceTarget = {
    name: `aws on ${backend.label}`,
    driver,
    secret,
    machineClass,
    vmsNamed,
    async strayVm(cluster, name) {
      await ec2.send(
        new RunInstancesCommand({
          ImageId: world.ami,
          InstanceType: "m5.large",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: world.subnetId,
          TagSpecifications: [
            {
              ResourceType: "instance",
              Tags: [
                { Key: "Name", Value: name },
                { Key: `kubernetes.io/cluster/${cluster}`, Value: "1" },
                { Key: "kubernetes.io/role/node", Value: "1" },
              ],
            },
          ],
        }),
      );
    },
    loseNextCreateAnswer() {
      proxy.inject({ action: "RunInstances", loseAnswer: true, times: 1 });
      return Promise.resolve();
    },
    async clearFaults() {
      proxy.clear();
      if (iamOn) await backend.enforceIam?.(false);
      iamOn = false;
    },
    volumes: {
      pvSpecs: [
        { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0a1b2c3d4e5f60718" } },
        { awsElasticBlockStore: { volumeID: "aws://eu-west-1a/vol-0badc0ffee0000001" } },
        { awsElasticBlockStore: { volumeID: "vol-0badc0ffee0000002" } },
        { awsElasticBlockStore: { volumeID: "not-a-volume" } },
        { csi: { driver: "disk.csi.virtual.sprout", volumeHandle: "vol-0000000000000000f" } },
        { hostPath: { path: "/data" } },
      ],
      expected: ["vol-0a1b2c3d4e5f60718", "vol-0badc0ffee0000001", "vol-0badc0ffee0000002"],
    },
    errorCases,
    listPageSize: PAGE_SIZE,
    listPages: () => Promise.resolve(proxy.calls("DescribeInstances")),
    dependents,
  };

  return {
    target,
    world,
    proxy,
    ec2,
    driver,
    secret,
    machineClass,
    async close() {
      ec2.destroy();
      await proxy.close();
    },
  };
}
