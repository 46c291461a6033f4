import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { describe, expect, inject, it } from "vitest";
import { httpCall } from "../../src/localplane/http.ts";

const ec2 = new EC2Client({
  endpoint: inject("motoEndpoint"),
  region: "eu-west-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

async function instanceIds(): Promise<string[]> {
  const out = await ec2.send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId ?? ""));
}

describe("moto", () => {
  it("speaks EC2's wire protocol to the real SDK and resets on request", async () => {
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.small",
        MinCount: 2,
        MaxCount: 2,
      }),
    );
    const created = (run.Instances ?? []).map((i) => i.InstanceId);
    expect(created).toHaveLength(2);
    expect(await instanceIds()).toEqual(expect.arrayContaining(created));
    const reset = await httpCall(`${inject("motoEndpoint")}/moto-api/reset`, { method: "POST" });
    expect(reset.status).toBe(200);
    expect(await instanceIds()).toEqual([]);
  });
});
