import type { Filter, Instance, NetworkInterface, Tag, Volume } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { MachineError } from "sprout/driver";
import { deleteDependents } from "./dependents.ts";
import { launchFailure } from "./errors.ts";
import type { Ec2Port } from "./sdk.ts";

const inUse = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });

/** EC2's answers for the calls deleteDependents makes; filters by tag or by attachment. */
function ec2(state: { instances: Instance[]; nics: NetworkInterface[]; volumes: Volume[] }) {
  const deleted: string[] = [];
  const matches = (filters: Filter[], tags: Tag[] | undefined, attached: string | undefined) =>
    filters.some((f) => f.Name === "attachment.instance-id")
      ? filters.some((f) => attached !== undefined && f.Values?.includes(attached))
      : (tags ?? []).some((t) => t.Key === "Name");
  const unused = () => Promise.reject(new Error("not used"));
  const port: Ec2Port = {
    describeInstances: (q) =>
      Promise.resolve(state.instances.filter((i) => q.filters?.[0]?.Values?.includes(i.InstanceId ?? ""))),
    describeNetworkInterfaces: (f) =>
      Promise.resolve(state.nics.filter((n) => matches(f, n.TagSet, n.Attachment?.InstanceId))),
    describeVolumes: (f) =>
      Promise.resolve(state.volumes.filter((v) => matches(f, v.Tags, v.Attachments?.[0]?.InstanceId))),
    deleteNetworkInterface: (id) => {
      const nic = state.nics.find((n) => n.NetworkInterfaceId === id);
      if (nic?.Attachment) return Promise.reject(inUse("InvalidNetworkInterface.InUse"));
      deleted.push(id);
      return Promise.resolve();
    },
    deleteVolume: (id) => {
      deleted.push(id);
      return Promise.resolve();
    },
    describeImage: unused,
    runInstance: unused,
    terminateInstances: unused,
    disableSourceDestCheck: unused,
    withSignal: () => port,
  };
  return { port, deleted };
}

const tagged = [{ Key: "Name", Value: "m1" }];
const machine = { name: "m1", cluster: "kubernetes.io/cluster/c1", instanceIds: ["i-1"] };

describe("deleteDependents", () => {
  it("deletes what no live instance holds and leaves what EC2 deletes with its instance", async () => {
    const { port, deleted } = ec2({
      instances: [{ InstanceId: "i-1", State: { Name: "terminated" } }],
      nics: [
        { NetworkInterfaceId: "eni-left", TagSet: tagged },
        { NetworkInterfaceId: "eni-auto", Attachment: { InstanceId: "i-1", DeleteOnTermination: true } },
      ],
      volumes: [
        { VolumeId: "vol-left", Tags: tagged },
        {
          VolumeId: "vol-kept",
          Tags: tagged,
          Attachments: [{ InstanceId: "i-9", DeleteOnTermination: false }],
        },
      ],
    });
    // vol-kept is attached to i-9, which EC2 no longer lists: nothing holds it.
    await deleteDependents(port, machine);
    expect(deleted.sort()).toEqual(["eni-left", "vol-kept", "vol-left"]);
  });

  it("leaves what a live instance holds alone", async () => {
    const { port, deleted } = ec2({
      instances: [{ InstanceId: "i-1", State: { Name: "running" } }],
      nics: [{ NetworkInterfaceId: "eni-1", TagSet: tagged, Attachment: { InstanceId: "i-1" } }],
      volumes: [{ VolumeId: "vol-1", Tags: tagged, Attachments: [{ InstanceId: "i-1" }] }],
    });
    await deleteDependents(port, machine);
    expect(deleted).toEqual([]);
  });

  it("answers Unavailable while an interface is still attached to a terminating instance", async () => {
    const { port } = ec2({
      instances: [{ InstanceId: "i-1", State: { Name: "shutting-down" } }],
      nics: [{ NetworkInterfaceId: "eni-1", Attachment: { InstanceId: "i-1", DeleteOnTermination: false } }],
      volumes: [],
    });
    const err = await deleteDependents(port, machine).catch((e: unknown) => MachineError.from(e));
    expect(err).toMatchObject({ code: "Unavailable" });
    expect(String(err)).toContain("eni-1");
  });
});

describe("launchFailure", () => {
  it("reads the state reason: capacity is ResourceExhausted, anything else Internal", () => {
    expect(launchFailure("i-1", { Code: "Server.InsufficientInstanceCapacity" }).code).toBe(
      "ResourceExhausted",
    );
    const other = launchFailure("i-2", { Code: "Server.InternalError", Message: "Internal error on launch" });
    expect(other.code).toBe("Internal");
    expect(other.message).toContain("i-2 terminated at launch: Internal error on launch");
  });
});
