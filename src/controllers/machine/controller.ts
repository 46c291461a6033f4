import { type NodeObject } from "../../api/core.ts";
import { phaseOf } from "../../api/machine-state.ts";
import { Finalizers, Labels, MachineEventReasons } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineClass } from "../../api/v1alpha1/machineclass.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import { MachineError } from "../../driver/errors.ts";
import type { DriverRegistry } from "../../driver/registry.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { isNotFound, type KubeClient, type KubeObject } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import { classlessDeletion, FORCE_DELETION_HINT } from "./classless.ts";
import { invalidTimeouts, type MachineControllerConfig } from "./config.ts";
import { type MachineWork, resolveWork, type SecretObject } from "./context.ts";
import { createFlow } from "./create.ts";
import { deletionFlow } from "./delete.ts";
import type { FlowDeps } from "./deps.ts";
import { healthFlow } from "./health.ts";
import { DEPLOYMENT_INDEX, ReplacementPermits } from "./replacements.ts";
import { withOperation } from "./status.ts";
import { writeObject, writeStatus } from "./write.ts";

type MachineObject = Machine & KubeObject;
type ClassObject = MachineClass & KubeObject;
type DeploymentObject = MachineDeployment & KubeObject;

export interface MachineControllerDeps {
  readonly manager: Manager;
  /** Client of the target (shoot) cluster; undefined for --target-kubeconfig=none. */
  readonly target: KubeClient | undefined;
  readonly registry: DriverRegistry;
  readonly config: MachineControllerConfig;
  readonly clock?: Clock;
}

const deleting = (m: Machine): boolean => Boolean(m.metadata?.deletionTimestamp);

/**
 * The machine controller: one queue for creation and health, another for deletion, so drains and
 * mass terminations never delay creations (each with --concurrent-syncs workers).
 */
export class MachineController {
  readonly machines: Informer<MachineObject>;
  readonly classes: Informer<ClassObject>;
  readonly secrets: Informer<SecretObject>;
  readonly nodes: Informer<NodeObject> | undefined;
  readonly #deps: MachineControllerDeps;
  readonly #flow: FlowDeps;
  readonly #lifecycle: Controller;
  readonly #termination: Controller;

  constructor(deps: MachineControllerDeps) {
    this.#deps = deps;
    const { manager, config } = deps;
    const namespace = config.namespace;
    this.machines = manager.informer<MachineObject>(MachineResources.machines, {
      namespace,
      indexers: {
        node: Indexers.label(Labels.node),
        class: (m) => [m.spec.class.name], // a Machine without one is reported by the cache
        [DEPLOYMENT_INDEX]: Indexers.label(Labels.name),
      },
    });
    const deployments = manager.informer<DeploymentObject>(MachineResources.machineDeployments, {
      namespace,
    });
    this.classes = manager.informer<ClassObject>(MachineResources.machineClasses, { namespace });
    this.secrets = manager.informer<SecretObject>(Resources.secrets, { namespace });
    this.nodes = deps.target
      ? manager.informer<NodeObject>(Resources.nodes, { client: deps.target })
      : undefined;
    const permits = new ReplacementPermits(this.machines.store, deployments.store, deps.clock ?? realClock);
    this.#flow = {
      client: manager.client,
      target: deps.target,
      nodes: this.nodes,
      events: manager.events,
      config,
      clock: deps.clock ?? realClock,
      replacementPermit: (m) => permits.permit(m),
    };
    const common = {
      workers: config.concurrentSyncs,
      logger: manager.logger,
      metrics: manager.metrics,
      clock: this.#flow.clock,
    };
    this.#lifecycle = new Controller({
      ...common,
      name: "machine",
      reconcile: (ctx) => this.#reconcile(ctx),
    });
    this.#termination = new Controller({
      ...common,
      name: "machine-termination",
      reconcile: (ctx) => this.#terminate(ctx),
    });
    this.#lifecycle.watch(this.machines, (m) => (deleting(m) ? [] : [objectKey(m)]));
    this.#termination.watch(this.machines, (m) => (deleting(m) ? [objectKey(m)] : []));
    this.#lifecycle.watch(this.classes, (c) => this.#machinesOfClass(c.metadata?.name ?? ""));
    this.#lifecycle.watch(this.secrets, (s) => this.#machinesOfSecret(s.metadata?.name ?? ""));
    if (this.nodes) this.#lifecycle.watch(this.nodes, (n) => this.#machinesOfNode(n.metadata?.name ?? ""));
    manager.addController(this.#lifecycle);
    manager.addController(this.#termination);
  }

  #machinesOfClass(name: string): string[] {
    return this.machines.store.byIndex("class", name).map(objectKey);
  }

  #machinesOfSecret(name: string): string[] {
    return this.classes.store
      .list()
      .filter((c) => c.secretRef?.name === name || c.credentialsSecretRef?.name === name)
      .flatMap((c) => this.#machinesOfClass(c.metadata?.name ?? ""));
  }

  #machinesOfNode(name: string): string[] {
    return this.machines.store.byIndex("node", name).map(objectKey);
  }

  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    let machine: Machine | undefined = this.machines.store.get(ctx.key);
    if (!machine) return undefined;
    if (deleting(machine)) {
      this.#termination.enqueue(ctx.key);
      return undefined;
    }
    machine = await this.#ensureFinalizer(machine);
    const ignored = invalidTimeouts(machine);
    if (ignored.length > 0) {
      // Stored before admission checked durations; the Event recorder counts the repeats.
      const reason = MachineEventReasons.invalidTimeout;
      await this.#flow.events.record(machine, "Warning", reason, "Create", ignored.join("; "));
    }
    const work = await this.#work(machine, ctx.signal);
    if (!work) return { requeueAfter: this.#deps.config.mediumRetryMs };
    const phase = phaseOf(machine);
    if (machine.spec.providerID && phase !== "" && phase !== "CrashLoopBackOff") {
      return this.#flow.target ? healthFlow(machine, this.#flow) : undefined;
    }
    return createFlow(work, this.#flow);
  }

  async #terminate(ctx: ReconcileContext): Promise<Result> {
    const machine = this.machines.store.get(ctx.key);
    if (!machine || !deleting(machine)) return undefined;
    const work = (await this.#work(machine, ctx.signal)) ?? classlessDeletion(machine, ctx.signal);
    if (!work) return { requeueAfter: this.#deps.config.mediumRetryMs };
    try {
      return await deletionFlow(work, this.#flow);
    } catch (err) {
      // A reconcile queued by the flow's own writes can run on a cached copy of a machine whose
      // finalizer is already gone: its writes find nothing, and there is nothing left to do.
      if (isNotFound(err) && (await this.#gone(machine))) return undefined;
      throw err;
    }
  }

  /** True when the API server no longer holds this machine (or holds a newer one of its name). */
  async #gone(machine: Machine): Promise<boolean> {
    const meta = machine.metadata ?? {};
    try {
      const live = await this.#flow.client.get<MachineObject>(
        MachineResources.machines,
        meta.namespace,
        meta.name ?? "",
      );
      return live.metadata?.uid !== meta.uid;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  async #ensureFinalizer(machine: Machine): Promise<Machine> {
    const meta = machine.metadata ?? {};
    if (meta.finalizers?.includes(Finalizers.machineControllerManager)) return machine;
    return writeObject(this.#flow.client, machine, {
      ...machine,
      metadata: { ...meta, finalizers: [...(meta.finalizers ?? []), Finalizers.machineControllerManager] },
    });
  }

  /** The machine's class, Secret data and driver; a problem is reported on the Machine and an Event. */
  async #work(machine: Machine, signal: AbortSignal): Promise<MachineWork | undefined> {
    try {
      return await resolveWork(machine, this.classes, this.secrets, this.#deps.registry, signal);
    } catch (err) {
      const cause = MachineError.from(err);
      const type = deleting(machine) ? "Delete" : "Create";
      const e = deleting(machine)
        ? new MachineError(cause.code, `${cause.message}; ${FORCE_DELETION_HINT}`)
        : cause;
      const last = machine.status?.lastOperation;
      // The same problem again: nothing to write (the Event recorder counts the repeat).
      if (last?.description !== e.message || last.errorCode !== e.code || last.state !== "Failed") {
        const update = { type, state: "Failed", description: e.message, errorCode: e.code } as const;
        await writeStatus(this.#flow.client, machine, withOperation(machine, update, this.#flow.clock.now()));
      }
      await this.#flow.events.record(machine, "Warning", "InvalidClass", type, e.message);
      return undefined;
    }
  }
}
