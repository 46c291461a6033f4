import { randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Filter,
  type Instance,
} from "@aws-sdk/client-ec2";
import { cacheDir } from "../../src/localplane/cache.ts";
import { httpCall } from "../../src/localplane/http.ts";
import { MotoServer } from "./moto.ts";
import { stderrProgress } from "../../src/localplane/progress.ts";

/** Credentials an emulator accepts while it does not check them. */
export const TEST_CREDENTIALS = { accessKeyId: "AKIATESTSPROUT000001", secretAccessKey: "test-secret-key" };

/** What a MachineClass on an emulated EC2 needs: an image, a subnet, a security group, an instance profile. */
export interface Ec2World {
  readonly endpoint: string;
  readonly region: string;
  readonly zone: string;
  readonly ami: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  readonly instanceProfile: string;
  readonly keyName: string;
}

/** A Gardener-style AWS providerSpec for the emulated world, its VMs tagged for `cluster`. */
export function awsProviderSpec(world: Ec2World, cluster: string): Record<string, unknown> {
  return {
    ami: world.ami,
    region: world.region,
    machineType: "m5.large",
    iam: { name: world.instanceProfile },
    keyName: world.keyName,
    networkInterfaces: [{ subnetID: world.subnetId, securityGroupIDs: [world.securityGroupId] }],
    blockDevices: [{ ebs: { volumeSize: 50, volumeType: "gp3", encrypted: true } }],
    tags: { [`kubernetes.io/cluster/${cluster}`]: "1", "kubernetes.io/role/node": "1", team: "sprout" },
    instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
  };
}

/** An SDK client straight to the emulator, for arranging and checking what the tests look at. */
export function rawEc2(endpoint: string, region: string): EC2Client {
  return new EC2Client({ endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

/**
 * Calls an IAM action through the query protocol. Only for emulators that do not check signatures
 * at the moment of the call (the credential scope tells them the service).
 */
export async function iamCall(
  endpoint: string,
  action: string,
  params: Record<string, string>,
): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: "2010-05-08", ...params }).toString();
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${action} failed: ${res.status} ${text}`);
  return text;
}

const between = (text: string, tag: string): string =>
  new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text)?.[1] ?? "";

/** An IAM user with an access key and no policy: every EC2 call is denied once IAM is enforced. */
export async function userWithoutRights(
  endpoint: string,
  name: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await iamCall(endpoint, "CreateUser", { UserName: name });
  const key = await iamCall(endpoint, "CreateAccessKey", { UserName: name });
  return { accessKeyId: between(key, "AccessKeyId"), secretAccessKey: between(key, "SecretAccessKey") };
}

/**
 * Creates a VPC, a subnet in the region's first zone, a security group, a key pair and an instance
 * profile. The subnet is one of 4 096 /20s of 10.0.0.0/8, drawn at random: instances are named by
 * their private IP, and Nodes of test files that share one apiserver must not meet under one name.
 */
export async function prepareEc2World(endpoint: string, region: string): Promise<Ec2World> {
  const ec2 = rawEc2(endpoint, region);
  try {
    const zone = `${region}a`;
    const octet = randomInt(256);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${octet}.0.0/16` }));
    const vpcId = vpc.Vpc?.VpcId ?? "";
    const subnetCidr = `10.${octet}.${16 * randomInt(16)}.0/20`;
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: subnetCidr, AvailabilityZone: zone }),
    );
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "nodes", Description: "worker nodes", VpcId: vpcId }),
    );
    const images = await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }));
    const ami = images.Images?.find((i) => i.RootDeviceName && i.ImageId)?.ImageId;
    if (!ami) throw new Error("the emulator offers no image");
    const keyName = "sprout-nodes";
    await ec2.send(new CreateKeyPairCommand({ KeyName: keyName }));
    const instanceProfile = "sprout-nodes";
    await iamCall(endpoint, "CreateInstanceProfile", { InstanceProfileName: instanceProfile });
    return {
      endpoint,
      region,
      zone,
      ami,
      subnetId: subnet.Subnet?.SubnetId ?? "",
      securityGroupId: sg.GroupId ?? "",
      instanceProfile,
      keyName,
    };
  } finally {
    ec2.destroy();
  }
}

/** Instances in pending, running, stopping or stopped state matching the filters, straight from EC2. */
export async function liveInstances(ec2: EC2Client, filters: Filter[] = []): Promise<Instance[]> {
  const out = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        ...filters,
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
      ],
    }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

/**
 * A moto server of this test file's own, so IAM enforcement can be switched on (reset-auth) and the
 * shared moto's resets do not touch it. Images and instance types are validated as EC2 does.
 */
export async function startOwnMoto(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(cacheDir(), "moto-"));
  const moto = await MotoServer.start(dir, {
    progress: stderrProgress,
    env: {
      ...process.env,
      MOTO_ENABLE_AMI_VALIDATION: "true",
      MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION: "true",
    },
  });
  return {
    endpoint: moto.endpoint,
    async stop() {
      await moto.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Switches moto's IAM enforcement on or off (moto's own /moto-api/reset-auth). */
export async function enforceIam(endpoint: string, on: boolean): Promise<void> {
  const res = await httpCall(`${endpoint}/moto-api/reset-auth`, { method: "POST", body: on ? "0" : "inf" });
  if (res.status !== 200) throw new Error(`moto reset-auth: ${res.status} ${res.body}`);
}
