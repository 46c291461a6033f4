import { setTimeout as sleep } from "node:timers/promises";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
} from "@aws-sdk/client-ec2";
import type { SimVm, VmFeed } from "../../src/sim/node/nodesim.ts";
import type { VmState } from "../../src/sim/cloud/types.ts";

const stateOf = (i: Instance): VmState => {
  const name = i.State?.Name;
  return name === "running" ? "running" : name === "pending" ? "pending" : "terminated";
};

/**
 * EC2 instances as a VM feed for the node simulator: polls DescribeInstances and reports the
 * instances whose state changed. A Node gets the instance's private DNS name and the providerID
 * the AWS cloud-controller-manager writes, aws:///<zone>/<instance id>, and joins as its user data
 * says (a bootstrap token in it is used as a kubelet would).
 */
export class Ec2VmFeed implements VmFeed {
  readonly #ec2: EC2Client;
  readonly #filters: Filter[];
  readonly #pollMs: number;
  readonly #known = new Map<string, { vm: SimVm; version: number }>();
  #version = 0;

  constructor(ec2: EC2Client, filters: Filter[], pollMs = 250) {
    this.#ec2 = ec2;
    this.#filters = filters;
    this.#pollMs = pollMs;
  }

  async changes(
    since: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<{ version: number; vms: SimVm[] }> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      await this.#poll();
      const vms = [...this.#known.values()].filter((e) => e.version > since).map((e) => e.vm);
      if (vms.length > 0 || Date.now() >= deadline || signal?.aborted) return { version: this.#version, vms };
      await sleep(this.#pollMs, undefined, signal ? { signal } : {}).catch(() => undefined);
    }
  }

  /** The instance's user data (base64), as a booting instance reads it from the metadata service. */
  async #userData(id: string): Promise<string> {
    const out = await this.#ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
    );
    return out.UserData?.Value ?? "";
  }

  async #poll(): Promise<void> {
    const out = await this.#ec2.send(new DescribeInstancesCommand({ Filters: this.#filters }));
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const id = i.InstanceId ?? "";
      const zone = i.Placement?.AvailabilityZone ?? "";
      const known = this.#known.get(id);
      const state = stateOf(i);
      if (known?.vm.state === state) continue;
      const vm: SimVm = {
        id,
        name: i.PrivateDnsName ?? id,
        zone,
        machineType: i.InstanceType ?? "",
        state,
        launchTime: (i.LaunchTime ?? new Date()).toISOString(),
        userData: known?.vm.userData ?? (state === "terminated" ? "" : await this.#userData(id)),
        providerID: `aws:///${zone}/${id}`,
      };
      this.#known.set(id, { vm, version: ++this.#version });
    }
  }
}
