import type { Filter, Instance } from "@aws-sdk/client-ec2";
import { MachineError } from "sprout/driver";
import { awsCodeOf } from "./errors.ts";
import { NAME_TAG } from "./provider-spec.ts";
import type { Ec2Port } from "./sdk.ts";

/** Instance states of an instance that still holds what is attached to it. */
const HOLDING_STATES = new Set(["pending", "running", "stopping", "stopped"]);
/** Answers to a delete of something already gone. */
const GONE = new Set(["InvalidNetworkInterfaceID.NotFound", "InvalidVolume.NotFound"]);
/** Answers to a delete of something still attached (its instance is shutting down). */
const IN_USE = new Set(["InvalidNetworkInterface.InUse", "VolumeInUse", "IncorrectState"]);

/** A network interface or an EBS volume, with the instance it is attached to (if any). */
interface Dependent {
  readonly id: string;
  readonly kind: "network interface" | "volume";
  readonly attachedTo: string | undefined;
  /** EC2 deletes it itself when its instance terminates. */
  readonly goesWithInstance: boolean;
}

/**
 * Deletes the network interfaces and EBS volumes of a machine that no live instance holds: those
 * tagged with its Name and the cluster's tag key (RunInstances tags them so), and those attached to
 * `instanceIds` (the machine's instances, which may be terminated already). What is attached to a
 * live instance stays, and so does what EC2 deletes with its terminating instance
 * (DeleteOnTermination). What is still attached to an instance that is shutting down cannot be
 * deleted yet: the call then fails with Unavailable, and the next one finishes the work.
 */
export async function deleteDependents(
  ec2: Ec2Port,
  machine: { readonly name: string; readonly cluster: string; readonly instanceIds: readonly string[] },
): Promise<void> {
  const found = await dependentsOf(ec2, machine);
  const holders = new Set(await holding(ec2, found));
  const waiting: string[] = [];
  for (const d of found) {
    if (d.attachedTo !== undefined && (holders.has(d.attachedTo) || d.goesWithInstance)) continue;
    try {
      await (d.kind === "volume" ? ec2.deleteVolume(d.id) : ec2.deleteNetworkInterface(d.id));
    } catch (err) {
      const code = awsCodeOf(err) ?? "";
      if (IN_USE.has(code)) waiting.push(d.id);
      else if (!GONE.has(code)) throw err;
    }
  }
  if (waiting.length > 0) {
    throw new MachineError(
      "Unavailable",
      `${waiting.join(", ")} of machine ${machine.name} still attached to a terminating instance`,
    );
  }
}

async function dependentsOf(
  ec2: Ec2Port,
  machine: { readonly name: string; readonly cluster: string; readonly instanceIds: readonly string[] },
): Promise<Dependent[]> {
  const queries: Filter[][] = [
    [
      { Name: `tag:${NAME_TAG}`, Values: [machine.name] },
      { Name: "tag-key", Values: [machine.cluster] },
    ],
  ];
  const ids = machine.instanceIds.filter((id) => id !== "");
  if (ids.length > 0) queries.push([{ Name: "attachment.instance-id", Values: ids }]);
  const byId = new Map<string, Dependent>();
  for (const filters of queries) {
    for (const ni of await ec2.describeNetworkInterfaces(filters)) {
      const id = ni.NetworkInterfaceId ?? "";
      byId.set(id, {
        id,
        kind: "network interface",
        attachedTo: ni.Attachment?.InstanceId,
        goesWithInstance: ni.Attachment?.DeleteOnTermination === true,
      });
    }
    for (const v of await ec2.describeVolumes(filters)) {
      const id = v.VolumeId ?? "";
      const attachment = v.Attachments?.[0];
      byId.set(id, {
        id,
        kind: "volume",
        attachedTo: attachment?.InstanceId,
        goesWithInstance: attachment?.DeleteOnTermination === true,
      });
    }
  }
  byId.delete("");
  return [...byId.values()];
}

/** Which of the instances the dependents are attached to still hold them (are not terminating). */
async function holding(ec2: Ec2Port, found: readonly Dependent[]): Promise<string[]> {
  const ids = [...new Set(found.flatMap((d) => (d.attachedTo ? [d.attachedTo] : [])))];
  if (ids.length === 0) return [];
  // A filter, not InstanceIds: an instance EC2 no longer knows is simply not listed.
  const instances: Instance[] = await ec2.describeInstances({
    filters: [{ Name: "instance-id", Values: ids }],
  });
  return instances.filter((i) => HOLDING_STATES.has(i.State?.Name ?? "")).map((i) => i.InstanceId ?? "");
}
