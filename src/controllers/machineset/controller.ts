import { controllerKeyOf, controllerRefOf } from "../../runtime/meta/owners.ts";
import { phaseOf } from "../../api/machine-state.ts";
import {
  Finalizers,
  MachineSetConditions,
  MCM_RETRY_PERIODS,
  type RetryPeriods,
  SetEventReasons,
} from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { patchObject, withFinalizer, withoutFinalizer } from "../../runtime/client/patch.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import { type Phase, type PhaseResult, runPhases, type Scope } from "../../runtime/controller/phases.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import { selectorMatches } from "../../runtime/selector.ts";
import { claimMachines, propagateTemplate } from "./claim.ts";
import type { MachineObject, MachineSetObject, SetDeps } from "./deps.ts";
import { Expectations } from "./expectations.ts";
import { createMachines, deleteMachines, planReplicas } from "./replicas.ts";
import { refusedStatus, selectorProblem } from "./selector-guard.ts";
import { type ReplicaFailure, setStatus } from "./status.ts";

export interface MachineSetControllerOptions {
  readonly manager: Manager;
  readonly namespace: string;
  /** Workers (--concurrent-syncs). Default 10. */
  readonly workers?: number;
  /** Full resync of every set. Default 10 min (MCM's). */
  readonly resyncMs?: number;
  /** Requeue delays. Default MCM's. */
  readonly retry?: RetryPeriods;
  readonly clock?: Clock;
}

/** What one reconcile of a set read, and the draft of the set its phases change. */
interface SetScope extends Scope<MachineSetObject> {
  readonly key: string;
  readonly read: MachineSetObject;
  /** The namespace's machines, from the cache. */
  readonly all: readonly MachineObject[];
  owned: Machine[];
  failure?: ReplicaFailure | undefined;
}

const isActive = (m: Machine): boolean => !m.metadata?.deletionTimestamp && phaseOf(m) !== "Terminating";
/**
 * An error's message without the name of the object it is about: a create the apiserver refuses
 * names each attempt's generated machine, and a message that changed every attempt would be a new
 * Event and a new status write (which queues the set again) each time.
 */
const message = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/^([\w.]+) "[^"]*" /, "$1 ");

/**
 * The MachineSet controller: keeps spec.replicas machines of the template, adopts and releases
 * machines by selector, passes node template and machine configuration changes down without
 * replacing machines, and reports status as MCM does.
 */
export class MachineSetController {
  readonly sets: Informer<MachineSetObject>;
  readonly machines: Informer<MachineObject>;
  readonly #deps: SetDeps;
  readonly #controller: Controller;
  readonly #expectations = new Expectations();
  readonly #resyncMs: number;
  readonly #retry: RetryPeriods;
  readonly #phases: readonly Phase<SetScope>[] = [
    (s) => this.#selectorGuard(s),
    (s) => {
      s.draft = withFinalizer(s.draft, Finalizers.machineControllerManager);
      return undefined;
    },
    (s) => this.#claim(s),
    (s) => this.#replicas(s),
    (s) => this.#status(s),
  ];
  readonly #deletion: readonly Phase<SetScope>[] = [(s) => this.#deleteSet(s)];

  constructor(opts: MachineSetControllerOptions) {
    const { manager, namespace } = opts;
    this.#resyncMs = opts.resyncMs ?? MCM_RETRY_PERIODS.longRetryMs;
    this.#retry = opts.retry ?? MCM_RETRY_PERIODS;
    this.#deps = { client: manager.client, events: manager.events, clock: opts.clock ?? realClock };
    this.sets = manager.informer<MachineSetObject>(MachineResources.machineSets, { namespace });
    this.machines = manager.informer<MachineObject>(MachineResources.machines, {
      namespace,
      indexers: { controller: Indexers.controller },
    });
    this.#controller = new Controller({
      name: "machineset",
      clock: this.#deps.clock,
      workers: opts.workers ?? 10,
      logger: manager.logger,
      metrics: manager.metrics,
      reconcile: (ctx) => this.#reconcile(ctx),
    });
    this.#controller.watch(this.sets);
    this.#controller.watch(this.machines, (m) => this.#setsOf(m));
    manager.addController(this.#controller);
  }

  /** The set controlling a machine; for an orphan, every set whose selector matches it (adoption). */
  #setsOf(m: Machine): string[] {
    const owner = controllerKeyOf(m, "MachineSet");
    if (owner) return [owner];
    if (controllerRefOf(m)) return [];
    return this.sets.store
      .list()
      .filter((s) => selectorMatches(s.spec?.selector, m.metadata?.labels))
      .map(objectKey);
  }

  /**
   * Finalizer → claim and pass the template down → replicas → status, then one write of the set;
   * a deleted set deletes its machines and, once none is left, drops its finalizer.
   */
  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const read = this.sets.store.get(ctx.key);
    if (!read) {
      this.#expectations.forget(ctx.key);
      return undefined;
    }
    const ns = read.metadata?.namespace;
    const all = this.machines.store.list().filter((m) => m.metadata?.namespace === ns);
    const scope: SetScope = { key: ctx.key, read, draft: read, all, owned: [] };
    const phases = read.metadata?.deletionTimestamp ? this.#deletion : this.#phases;
    return runPhases(scope, phases, (draft) =>
      patchObject(this.#deps.client, MachineResources.machineSets, read, draft),
    );
  }

  /** A set whose selector cannot work only reports why (selector-guard.ts). */
  async #selectorGuard(s: SetScope): Promise<PhaseResult> {
    const spec = s.read.spec;
    const problem = selectorProblem(spec?.selector, spec?.template?.metadata?.labels);
    if (!problem) return undefined;
    const uid = s.read.metadata?.uid;
    const mine = s.all.filter((m) => controllerRefOf(m)?.uid === uid && isActive(m));
    s.draft = { ...s.draft, status: await refusedStatus(s.read, mine, problem, this.#deps) };
    return { requeueAfter: this.#resyncMs, stop: true };
  }

  async #claim(s: SetScope): Promise<undefined> {
    s.owned = await propagateTemplate(s.read, await claimMachines(s.read, s.all, this.#deps), this.#deps);
    return undefined;
  }

  /** Creates or deletes machines once the cache shows this set's earlier writes; else looks again soon. */
  async #replicas(s: SetScope): Promise<{ requeueAfter: number } | undefined> {
    const byName = new Map(s.all.map((m) => [m.metadata?.name ?? "", m]));
    if (!this.#expectations.satisfied(s.key, byName, this.#deps.clock.now())) {
      return { requeueAfter: this.#retry.shortRetryMs };
    }
    s.failure = await this.#manageReplicas(s.key, s.read, s.owned.filter(isActive));
    return undefined;
  }

  #status(s: SetScope): { requeueAfter: number } {
    const now = this.#deps.clock.now();
    const { status, availableInMs } = setStatus(s.read, s.owned.filter(isActive), s.failure, now);
    s.draft = { ...s.draft, status };
    return { requeueAfter: Math.min(this.#resyncMs, (availableInMs ?? Infinity) + 1000) };
  }

  async #manageReplicas(
    key: string,
    set: MachineSet,
    active: readonly Machine[],
  ): Promise<ReplicaFailure | undefined> {
    const plan = planReplicas(set, active);
    const now = this.#deps.clock.now();
    if (plan.delete.length > 0) {
      const { done, error } = await deleteMachines(plan.delete, this.#deps);
      this.#expectations.expect(key, now, [], done);
      const failure = await this.#report(set, "Delete", done, error);
      if (failure) return failure;
    }
    if (plan.create > 0) {
      const { done, error } = await createMachines(set, plan.create, this.#deps);
      this.#expectations.expect(key, now, done, []);
      return this.#report(set, "Create", done, error);
    }
    return undefined;
  }

  /** Events for what a create or delete round did, and the ReplicaFailure it caused, if any. */
  async #report(
    set: MachineSet,
    action: "Create" | "Delete",
    names: readonly string[],
    error: unknown,
  ): Promise<ReplicaFailure | undefined> {
    const [ok, failed, past] =
      action === "Create"
        ? ([SetEventReasons.successfulCreate, MachineSetConditions.reasons.failedCreate, "Created"] as const)
        : ([SetEventReasons.successfulDelete, MachineSetConditions.reasons.failedDelete, "Deleted"] as const);
    for (const name of names)
      await this.#deps.events.record(set, "Normal", ok, action, `${past} machine: ${name}`);
    if (error === undefined) return undefined;
    const msg = `${action === "Create" ? "creating" : "deleting"} machines: ${message(error)}`;
    await this.#deps.events.record(set, "Warning", failed, action, msg);
    return { reason: failed, message: msg };
  }

  /** A deleted set deletes its machines; its finalizer goes once none is left. */
  async #deleteSet(s: SetScope): Promise<{ requeueAfter: number } | undefined> {
    const uid = s.read.metadata?.uid;
    const owned = s.all.filter((m) => controllerRefOf(m)?.uid === uid);
    const live = owned.filter((m) => !m.metadata?.deletionTimestamp);
    if (live.length > 0) await deleteMachines(live, this.#deps);
    if (owned.length > 0) return { requeueAfter: this.#retry.shortRetryMs };
    s.draft = withoutFinalizer(s.draft, Finalizers.machineControllerManager);
    return undefined;
  }
}
