import type { ClassObject, DeploymentObject, MachineObject } from "../objects.ts";
import { type NodeObject } from "../../api/core.ts";
import { phaseOf } from "../../api/machine-state.ts";
import { Finalizers, Labels, MachineEventReasons } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { MachineError } from "../../driver/errors.ts";
import type { DriverRegistry } from "../../driver/registry.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { isNotFound, type KubeClient } from "../../runtime/client/client.ts";
import { patchObject, withFinalizer } from "../../runtime/client/patch.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { OwnWrites } from "../../runtime/cache/own-writes.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import { KeyLock } from "../../runtime/controller/key-lock.ts";
import { type Phase, type PhaseResult, runPhases, type Scope } from "../../runtime/controller/phases.ts";
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

export interface MachineControllerDeps {
  readonly manager: Manager;
  /** Client of the target (shoot) cluster; undefined for --target-kubeconfig=none. */
  readonly target: KubeClient | undefined;
  readonly registry: DriverRegistry;
  readonly config: MachineControllerConfig;
  readonly clock?: Clock;
}

const deleting = (m: Machine): boolean => Boolean(m.metadata?.deletionTimestamp);

/** What one lifecycle reconcile read, and the draft of the machine its phases change. */
interface MachineScope extends Scope<MachineObject> {
  readonly read: MachineObject;
  /** The reconcile's signal, for the driver calls. */
  readonly signal: AbortSignal;
  work?: MachineWork;
}

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
  readonly #ownWrites = new OwnWrites();
  #frozen = false;
  /** Machines whose lifecycle reconcile was skipped while frozen; queued again on thaw. */
  readonly #skipped = new Set<string>();
  readonly #phases: readonly Phase<MachineScope>[] = [
    (s) => this.#finalizer(s),
    (s) => this.#resolve(s),
    (s) => this.#createOrHealth(s),
  ];

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
      keyLock: new KeyLock(),
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

  /** From now on (an apiserver cannot be reached) no machine is created or moves in health; deletions go on. */
  freeze(): void {
    this.#frozen = true;
  }

  /**
   * Ends a freeze: every Unknown machine is Running again with a fresh timestamp (its health
   * timeout starts over, as in MCM: the outage was the controller's blindness, not the machine's),
   * then the machines skipped meanwhile are looked at again. Reconciles stay frozen until the
   * resets are written, so none fails a machine on the timeout that ran during the outage.
   */
  async thaw(): Promise<void> {
    // The caches catch up now, not after their reconnect backoff.
    this.machines.retryNow();
    this.nodes?.retryNow();
    const now = this.#flow.clock.now();
    for (const m of this.machines.store.list()) {
      if (phaseOf(m) !== "Unknown" || deleting(m)) continue;
      const update = {
        phase: "Running",
        type: "HealthCheck",
        state: "Successful",
        description: "Machine Health Timeout was reset due to APIServer being unreachable",
        timeoutActive: false,
      } as const;
      const draft = { ...m, status: withOperation(m, update, now) };
      await patchObject(this.#flow.client, MachineResources.machines, m, draft);
    }
    this.#frozen = false;
    for (const key of this.#skipped) this.#lifecycle.enqueue(key);
    this.#skipped.clear();
  }

  /** Whether a reconcile of this machine (create, health or deletion) runs right now: its lock. */
  busy(key: string): boolean {
    return this.#lifecycle.busy(key) || this.#termination.busy(key);
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

  /**
   * Finalizer (persisted before any VM exists) → class, Secrets and driver → create or health, then
   * one write of the machine (metadata and spec, then status).
   */
  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const read = this.machines.store.get(ctx.key);
    if (!read) {
      this.#ownWrites.forget(ctx.key);
      return undefined;
    }
    if (deleting(read)) {
      this.#termination.enqueue(ctx.key);
      return undefined;
    }
    // The cache still shows what this controller's last write replaced: its watch event follows.
    if (this.#ownWrites.stale(ctx.key, read.metadata?.resourceVersion)) return undefined;
    if (this.#frozen) {
      this.#skipped.add(ctx.key);
      return undefined;
    }
    const scope: MachineScope = { read, draft: read, signal: ctx.signal };
    return runPhases(scope, this.#phases, async (draft) => {
      await patchObject(this.#flow.client, MachineResources.machines, read, draft, {
        superseded: (rv) => this.#ownWrites.wrote(ctx.key, rv),
      });
    });
  }

  /** The finalizer is written before anything else happens: a VM must never exist without it. */
  #finalizer(s: MachineScope): PhaseResult {
    if (s.read.metadata?.finalizers?.includes(Finalizers.machineControllerManager)) return undefined;
    s.draft = withFinalizer(s.draft, Finalizers.machineControllerManager);
    // The write's own watch event brings the machine back.
    return { stop: true };
  }

  async #resolve(s: MachineScope): Promise<PhaseResult> {
    const ignored = invalidTimeouts(s.read);
    if (ignored.length > 0) {
      // Stored before admission checked durations; the Event recorder counts the repeats.
      const reason = MachineEventReasons.invalidTimeout;
      await this.#flow.events.record(s.read, "Warning", reason, "Create", ignored.join("; "));
    }
    const resolved = await this.#work(s.read, s.signal);
    if ("problem" in resolved) {
      s.draft = resolved.problem;
      return { requeueAfter: this.#deps.config.mediumRetryMs, stop: true };
    }
    s.work = resolved.work;
    return undefined;
  }

  async #createOrHealth(s: MachineScope): Promise<PhaseResult> {
    if (!s.work) return undefined;
    const phase = phaseOf(s.read);
    // A create that failed for good is not tried again: the machine's owner replaces it.
    if (phase === "Failed" && !s.read.spec.providerID) return undefined;
    const hasVm = s.read.spec.providerID && phase !== "" && phase !== "CrashLoopBackOff";
    if (hasVm && !this.#flow.target) return undefined;
    const { draft, requeueAfter } = hasVm
      ? await healthFlow(s.read, this.#flow)
      : await createFlow(s.work, this.#flow);
    s.draft = draft;
    return requeueAfter === undefined ? undefined : { requeueAfter };
  }

  async #terminate(ctx: ReconcileContext): Promise<Result> {
    const machine = this.machines.store.get(ctx.key);
    if (!machine || !deleting(machine)) return undefined;
    const resolved = await this.#work(machine, ctx.signal);
    if ("problem" in resolved) {
      await patchObject(this.#flow.client, MachineResources.machines, machine, resolved.problem);
    }
    const work = "work" in resolved ? resolved.work : classlessDeletion(machine, ctx.signal);
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

  /**
   * The machine's class, Secret data and driver; or, when one is missing, the machine with the
   * problem in status (the same problem again changes nothing) after a Warning Event.
   */
  async #work(machine: Machine, signal: AbortSignal): Promise<{ work: MachineWork } | { problem: Machine }> {
    try {
      return { work: await resolveWork(machine, this.classes, this.secrets, this.#deps.registry, signal) };
    } catch (err) {
      const cause = MachineError.from(err);
      const type = deleting(machine) ? "Delete" : "Create";
      const e = deleting(machine)
        ? new MachineError(cause.code, `${cause.message}; ${FORCE_DELETION_HINT}`)
        : cause;
      const last = machine.status?.lastOperation;
      await this.#flow.events.record(machine, "Warning", "InvalidClass", type, e.message);
      if (last?.description === e.message && last.errorCode === e.code && last.state === "Failed") {
        return { problem: machine };
      }
      const update = { type, state: "Failed", description: e.message, errorCode: e.code } as const;
      return { problem: { ...machine, status: withOperation(machine, update, this.#flow.clock.now()) } };
    }
  }
}
