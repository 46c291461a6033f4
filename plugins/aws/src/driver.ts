import { createHash } from "node:crypto";
import type { Filter, Instance } from "@aws-sdk/client-ec2";
import { type Machine, type MachineClass, SecretKeys } from "sprout/api";
import type {
  CreateMachineRequest,
  CreateMachineResponse,
  DeleteMachineRequest,
  DeleteMachineResponse,
  Driver,
  GetMachineStatusRequest,
  GetMachineStatusResponse,
  GetVolumeIDsRequest,
  GetVolumeIDsResponse,
  InitializeMachineRequest,
  InitializeMachineResponse,
  ListMachinesRequest,
  ListMachinesResponse,
  NodeAddress,
  SecretData,
} from "sprout/driver";
import { KeyedLock, MachineError, withBackoff } from "sprout/driver";
import { credentialsOf } from "./credentials.ts";
import { deleteDependents } from "./dependents.ts";
import { awsCodeOf, launchFailure, toMachineError } from "./errors.ts";
import { instanceIdOf, providerIdOf, volumeIdsOf } from "./ids.ts";
import { type AwsProviderSpec, clusterTags, NAME_TAG, parseProviderSpec } from "./provider-spec.ts";
import { runInstancesInput } from "./run-input.ts";
import { Ec2Clients, type Ec2Options, type Ec2Port } from "./sdk.ts";

/** Instance states of a VM that exists (shutting-down and terminated ones are gone). */
const LIVE_STATES = ["pending", "running", "stopping", "stopped"];
const GONE_STATES = new Set(["shutting-down", "terminated"]);

interface Context {
  readonly spec: AwsProviderSpec;
  readonly ec2: Ec2Port;
  readonly cluster: string;
  readonly role: string;
  readonly signal: AbortSignal | undefined;
}

const nameOf = (machine: Machine): string => machine.metadata?.name ?? "";
const isGone = (i: Instance): boolean => GONE_STATES.has(i.State?.Name ?? "");

/**
 * The EC2 driver. A VM is one instance tagged Name=<machine name> plus the class's cluster and role
 * tags; it is found by providerID (aws:///<zone>/<instance id>) or by those tags.
 */
export class AwsDriver implements Driver {
  readonly #clients: Ec2Clients;
  readonly #creates = new KeyedLock();

  constructor(opts: Ec2Options = {}) {
    this.#clients = new Ec2Clients(opts);
  }

  /** Closes the SDK clients' connections. */
  close(): void {
    this.#clients.destroy();
  }

  #context(req: { machineClass: MachineClass; secret: SecretData; signal?: AbortSignal }): Context {
    const spec = parseProviderSpec(req.machineClass.providerSpec);
    const ec2 = this.#clients.get(spec.region, credentialsOf(req.secret)).withSignal(req.signal);
    return { spec, ec2, signal: req.signal, ...clusterTags(spec) };
  }

  async createMachine(req: CreateMachineRequest): Promise<CreateMachineResponse> {
    const ctx = this.#context(req);
    const name = nameOf(req.machine);
    const userData = req.secret[SecretKeys.userData];
    if (!userData) {
      throw new MachineError("InvalidArgument", `the MachineClass Secret has no ${SecretKeys.userData}`);
    }
    // Idempotent three ways: creates of one machine queue behind each other here; an instance that
    // carries the machine's tags is returned instead of making one; and RunInstances carries a
    // client token derived from the Machine, so EC2 itself answers a repeated request with the
    // instance it already made.
    return this.#creates.run(`${ctx.spec.region}/${ctx.cluster}/${name}`, async () => {
      let made: string | undefined;
      try {
        const existing = await this.#byName(ctx, name);
        if (existing.length > 1) throw several(name, existing);
        if (existing[0]) return answer(existing[0]);
        const image = await ctx.ec2.describeImage(ctx.spec.ami);
        if (!image) {
          throw new MachineError(
            "NotFound",
            `providerSpec.ami: image ${ctx.spec.ami} not found in ${ctx.spec.region}`,
          );
        }
        const input = (extra: string) =>
          runInstancesInput({
            spec: ctx.spec,
            machineName: name,
            userData,
            clientToken: clientToken(req.machine, extra),
            rootDeviceName: image.RootDeviceName,
          });
        let instance = await ctx.ec2.runInstance(input(""));
        // A token is remembered by EC2 after its instance terminated: ask again with a new one.
        if (isGone(instance)) instance = await ctx.ec2.runInstance(input(instance.InstanceId ?? ""));
        made = instance.InstanceId ?? "";
        const confirmed = await confirm(ctx, made);
        if (isGone(confirmed)) throw launchFailure(made, confirmed.StateReason);
        return answer(confirmed);
      } catch (err) {
        // An instance was made and the create failed after all (EC2 terminated it at launch): what
        // it was made with and did not take along goes too (best effort; deleteMachine finishes).
        if (made) {
          await deleteDependents(ctx.ec2, { name, cluster: ctx.cluster, instanceIds: [made] }).catch(
            () => undefined,
          );
        }
        throw toMachineError(err, `creating an instance for machine ${name}`);
      }
    });
  }

  async initializeMachine(req: InitializeMachineRequest): Promise<InitializeMachineResponse> {
    const ctx = this.#context(req);
    if (ctx.spec.srcAndDstChecksEnabled !== false) {
      throw new MachineError("Unimplemented", "nothing to set up after create");
    }
    const name = nameOf(req.machine);
    try {
      const instance = await this.#one(ctx, req.machine);
      if (instance.SourceDestCheck !== false) await ctx.ec2.disableSourceDestCheck(instance.InstanceId ?? "");
      return answer(instance);
    } catch (err) {
      throw toMachineError(err, `disabling the source/destination check of machine ${name}`);
    }
  }

  async deleteMachine(req: DeleteMachineRequest): Promise<DeleteMachineResponse> {
    const ctx = this.#context(req);
    const name = nameOf(req.machine);
    try {
      // The providerID's instance and any other that carries the machine's tags (a create whose
      // answer was lost), so none is left behind.
      const found = [
        ...(await this.#byProviderID(ctx, req.machine.spec.providerID)),
        ...(await this.#byName(ctx, name)),
      ];
      const ids = [...new Set(found.map((i) => i.InstanceId ?? ""))].filter((id) => id !== "");
      if (ids.length > 0) {
        await ctx.ec2.terminateInstances(ids).catch((err: unknown) => {
          if (awsCodeOf(err) !== "InvalidInstanceID.NotFound") throw err;
        });
        await confirmTerminating(ctx, ids);
      }
      // Also when no instance was found (its status said NotFound): the network interfaces and
      // volumes it left go, found by the machine's tags and by the providerID's instance.
      const known = instanceIdOf(req.machine.spec.providerID);
      await deleteDependents(ctx.ec2, {
        name,
        cluster: ctx.cluster,
        instanceIds: known ? [known, ...ids] : ids,
      });
      return {};
    } catch (err) {
      throw toMachineError(err, `terminating the instance of machine ${name}`);
    }
  }

  async getMachineStatus(req: GetMachineStatusRequest): Promise<GetMachineStatusResponse> {
    const ctx = this.#context(req);
    const instance = await this.#one(ctx, req.machine).catch((err: unknown) => {
      throw toMachineError(err, `looking up the instance of machine ${nameOf(req.machine)}`);
    });
    if (ctx.spec.srcAndDstChecksEnabled === false && instance.SourceDestCheck !== false) {
      throw new MachineError(
        "Uninitialized",
        `instance ${instance.InstanceId} still has its source/destination check enabled`,
      );
    }
    return answer(instance);
  }

  async listMachines(req: ListMachinesRequest): Promise<ListMachinesResponse> {
    const ctx = this.#context(req);
    try {
      const instances = await this.#ofCluster(ctx);
      return {
        machineList: new Map(
          instances.map((i) => [providerIdOf(zoneOf(i), i.InstanceId ?? ""), tagOf(i, NAME_TAG) ?? ""]),
        ),
      };
    } catch (err) {
      throw toMachineError(err, `listing the instances of ${ctx.cluster}`);
    }
  }

  getVolumeIDs(req: GetVolumeIDsRequest): Promise<GetVolumeIDsResponse> {
    return Promise.resolve({ volumeIDs: volumeIdsOf(req.pvSpecs) });
  }

  /**
   * The machine's one live instance: the providerID's, or (without an AWS providerID) the ones
   * tagged with its name. NotFound when there is none, OutOfRange when several.
   */
  async #one(ctx: Context, machine: Machine): Promise<Instance> {
    const name = nameOf(machine);
    const instances = instanceIdOf(machine.spec.providerID)
      ? await this.#byProviderID(ctx, machine.spec.providerID)
      : await this.#byName(ctx, name);
    const [instance, ...more] = instances;
    if (!instance) throw new MachineError("NotFound", `no instance for machine ${name}`);
    if (more.length > 0) throw several(name, instances);
    return instance;
  }

  async #byProviderID(ctx: Context, providerID: string | undefined): Promise<Instance[]> {
    const id = instanceIdOf(providerID);
    if (!id) return [];
    try {
      return (await ctx.ec2.describeInstances({ instanceIds: [id] })).filter((i) => !isGone(i));
    } catch (err) {
      if (awsCodeOf(err) === "InvalidInstanceID.NotFound") return [];
      throw err;
    }
  }

  #byName(ctx: Context, name: string): Promise<Instance[]> {
    return this.#ofCluster(ctx, [{ Name: `tag:${NAME_TAG}`, Values: [name] }]);
  }

  /**
   * Live instances carrying the cluster's and the role's tag keys. Only the cluster key is a filter:
   * EC2 ANDs two tag-key filters, but emulators keep one filter per name, so the role is checked here.
   */
  async #ofCluster(ctx: Context, filters: Filter[] = []): Promise<Instance[]> {
    const found = await ctx.ec2.describeInstances({
      filters: [
        ...filters,
        { Name: "tag-key", Values: [ctx.cluster] },
        { Name: "instance-state-name", Values: LIVE_STATES },
      ],
    });
    return found.filter((i) => tagOf(i, ctx.role) !== undefined);
  }
}

function several(name: string, instances: Instance[]): MachineError {
  const ids = instances.map((i) => i.InstanceId).join(", ");
  return new MachineError("OutOfRange", `${instances.length} instances carry machine name ${name}: ${ids}`);
}

/** Derived from the Machine (its UID, so a re-created Machine of the same name gets a new one); at most 64 chars. */
function clientToken(machine: Machine, extra: string): string {
  return createHash("sha256")
    .update(`${machine.metadata?.uid ?? ""}/${nameOf(machine)}/${extra}`)
    .digest("hex");
}

const zoneOf = (i: Instance): string => i.Placement?.AvailabilityZone ?? "";
const tagOf = (i: Instance, key: string): string | undefined => i.Tags?.find((t) => t.Key === key)?.Value;

function answer(instance: Instance): CreateMachineResponse {
  const nodeName = instance.PrivateDnsName ?? "";
  if (!nodeName) {
    throw new MachineError("Unavailable", `instance ${instance.InstanceId} has no private DNS name yet`);
  }
  const addresses: NodeAddress[] = [
    ...(instance.PrivateIpAddress ? [{ type: "InternalIP", address: instance.PrivateIpAddress }] : []),
    { type: "InternalDNS", address: nodeName },
    ...(instance.PublicIpAddress ? [{ type: "ExternalIP", address: instance.PublicIpAddress }] : []),
  ];
  return { providerID: providerIdOf(zoneOf(instance), instance.InstanceId ?? ""), nodeName, addresses };
}

/** Waits until a new instance is visible to DescribeInstances (EC2 is eventually consistent). */
async function confirm({ ec2, signal }: Context, instanceId: string): Promise<Instance> {
  return withBackoff(
    async () => {
      const [instance] = await ec2.describeInstances({ instanceIds: [instanceId] });
      if (!instance) throw new MachineError("Unavailable", `instance ${instanceId} is not visible yet`);
      return instance;
    },
    (err) => err instanceof MachineError || awsCodeOf(err) === "InvalidInstanceID.NotFound",
    { maxAttempts: 8, baseDelayMs: 250, signal },
  );
}

/** Waits until EC2 reports every instance shutting down or terminated. */
async function confirmTerminating({ ec2, signal }: Context, ids: string[]): Promise<void> {
  await withBackoff(
    async () => {
      const described = await ec2.describeInstances({ instanceIds: ids }).catch((err: unknown) => {
        if (awsCodeOf(err) === "InvalidInstanceID.NotFound") return [];
        throw err;
      });
      const live = described.filter((i) => !isGone(i));
      if (live.length > 0) {
        const which = live.map((i) => `${i.InstanceId} (${i.State?.Name})`).join(", ");
        throw new MachineError("Unavailable", `termination not yet reported for ${which}`);
      }
    },
    (err) => err instanceof MachineError,
    { maxAttempts: 6, baseDelayMs: 250, signal },
  );
}
