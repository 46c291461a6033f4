import { DescribeInstanceAttributeCommand, DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import { uniqueName } from "../env/index.ts";
import { liveInstances } from "../env/aws.ts";
import type { AwsConformance } from "./aws-target.ts";
import { USER_DATA } from "./aws-target.ts";
import { codeOf, failureOf, testMachine } from "./suite.ts";

/** What the AWS plugin promises beyond the shared suite, checked against the emulator itself. */
export function awsBehaviour(aws: () => AwsConformance): void {
  const cluster = uniqueName("aws");
  const req = (name: string, spec: Record<string, unknown> = {}, providerID?: string) => ({
    machine: testMachine(name, providerID),
    machineClass: aws().machineClass(cluster, spec),
    secret: aws().secret,
  });

  describe("aws specifics", () => {
    afterEach(() => aws().proxy.clear());

    it("makes an instance as the providerSpec says, with the tags and user data", async () => {
      const name = uniqueName("shape");
      const vm = await aws().driver.createMachine(req(name));
      const [instance] = await liveInstances(aws().ec2, [{ Name: "tag:Name", Values: [name] }]);
      expect(instance).toBeDefined();
      const id = instance?.InstanceId ?? "";
      expect(vm.providerID).toBe(`aws:///${aws().world.zone}/${id}`);
      expect(vm.nodeName).toBe(instance?.PrivateDnsName);
      expect(Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
        Name: name,
        [`kubernetes.io/cluster/${cluster}`]: "1",
        "kubernetes.io/role/node": "1",
        team: "sprout",
      });
      expect(instance).toMatchObject({
        ImageId: aws().world.ami,
        InstanceType: "m5.large",
        SubnetId: aws().world.subnetId,
        MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 2 },
      });
      expect(instance?.IamInstanceProfile?.Arn).toMatch(/instance-profile\/sprout-nodes$/);
      expect(instance?.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual([
        aws().world.securityGroupId,
      ]);
      const userData = await aws().ec2.send(
        new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
      );
      expect(Buffer.from(userData.UserData?.Value ?? "", "base64").toString()).toBe(USER_DATA);
      const volumes = await aws().ec2.send(
        new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [id] }] }),
      );
      const root = volumes.Volumes?.[0];
      expect(root).toMatchObject({ Size: 50, VolumeType: "gp3", Encrypted: true });
    });

    it("absorbs short throttling with backoff", async () => {
      const name = uniqueName("throttle");
      await aws().driver.createMachine(req(name));
      const before = aws().proxy.calls("DescribeInstances");
      aws().proxy.inject({ action: "DescribeInstances", code: "RequestLimitExceeded", times: 2 });
      const vm = await aws().driver.getMachineStatus(req(name));
      expect(vm.providerID).toMatch(/^aws:\/\/\//);
      expect(aws().proxy.calls("DescribeInstances") - before).toBe(3);
    });

    it("sends one RunInstances for 20 parallel creates of one machine", async () => {
      const before = aws().proxy.calls("RunInstances");
      const r = req(uniqueName("one"));
      await Promise.all(Array.from({ length: 20 }, () => aws().driver.createMachine(r)));
      expect(aws().proxy.calls("RunInstances") - before).toBe(1);
    });

    it("disables the source/destination check in initializeMachine and reports Uninitialized until then", async () => {
      const name = uniqueName("nat");
      const spec = { srcAndDstChecksEnabled: false };
      const vm = await aws().driver.createMachine(req(name, spec));
      expect((await failureOf(aws().driver.getMachineStatus(req(name, spec)))).code).toBe("Uninitialized");
      await aws().driver.initializeMachine(req(name, spec, vm.providerID));
      const [instance] = await liveInstances(aws().ec2, [{ Name: "tag:Name", Values: [name] }]);
      expect(instance?.SourceDestCheck).toBe(false);
      expect(await codeOf(aws().driver.getMachineStatus(req(name, spec)))).toBe("OK");
    });

    it("runs spot instances when spotPrice is set", async () => {
      const name = uniqueName("spot");
      await aws().driver.createMachine(req(name, { spotPrice: "" }));
      const [instance] = await liveInstances(aws().ec2, [{ Name: "tag:Name", Values: [name] }]);
      expect(instance?.InstanceLifecycle).toBe("spot");
    });

    it("reads Gardener's aws:///<region>/<id> providerIDs too", async () => {
      const name = uniqueName("region-id");
      const vm = await aws().driver.createMachine(req(name));
      const id = vm.providerID.split("/").pop() ?? "";
      const status = await aws().driver.getMachineStatus(req(name, {}, `aws:///${aws().world.region}/${id}`));
      expect(status.providerID).toBe(vm.providerID);
    });
  });
}
