import { ensureFinalizer, removeFinalizer } from "../../runtime/client/finalizers.ts";
import { controllerKeyOf, controllerRefOf } from "../../runtime/meta/owners.ts";
import { phaseOf } from "../../api/machine-state.ts";
import { Finalizers, MachineSetConditions, SetEventReasons } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import { selectorMatches } from "../../runtime/selector.ts";
import { claimMachines, propagateTemplate } from "./claim.ts";
import type { MachineObject, MachineSetObject, SetDeps } from "./deps.ts";
import { Expectations } from "./expectations.ts";
import { createMachines, deleteMachines, planReplicas } from "./replicas.ts";
import { refuseSet, selectorProblem } from "./selector-guard.ts";
import { type ReplicaFailure, setStatus, writeSetStatus } from "./status.ts";

export interface MachineSetControllerOptions {
  readonly manager: Manager;
  readonly namespace: string;
  /** Workers (--concurrent-syncs). Default 10. */
  readonly workers?: number;
  /** Full resync of every set. Default 10 min (MCM's). */
  readonly resyncMs?: number;
  readonly clock?: Clock;
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

  constructor(opts: MachineSetControllerOptions) {
    const { manager, namespace } = opts;
    this.#resyncMs = opts.resyncMs ?? 10 * 60_000;
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

  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const cached = this.sets.store.get(ctx.key);
    if (!cached) {
      this.#expectations.forget(ctx.key);
      return undefined;
    }
    const all = this.machines.store
      .list()
      .filter((m) => m.metadata?.namespace === cached.metadata?.namespace);
    if (cached.metadata?.deletionTimestamp) return this.#deleteSet(cached, all);
    const problem = selectorProblem(cached.spec?.selector, cached.spec?.template?.metadata?.labels);
    if (problem) {
      const mine = all.filter((m) => controllerRefOf(m)?.uid === cached.metadata?.uid && isActive(m));
      await refuseSet(cached, mine, problem, this.#deps);
      return { requeueAfter: this.#resyncMs };
    }
    const set = await ensureFinalizer(
      this.#deps.client,
      MachineResources.machineSets,
      cached,
      Finalizers.machineControllerManager,
    );
    const owned = await propagateTemplate(set, await claimMachines(set, all, this.#deps), this.#deps);
    const byName = new Map(all.map((m) => [m.metadata?.name ?? "", m]));
    const now = this.#deps.clock.now();
    const settled = this.#expectations.satisfied(ctx.key, byName, now);
    const failure = settled ? await this.#manageReplicas(ctx.key, set, owned.filter(isActive)) : undefined;
    const { status, availableInMs } = setStatus(set, owned.filter(isActive), failure, now);
    await writeSetStatus(set, status, this.#deps);
    const next = Math.min(this.#resyncMs, settled ? Infinity : 5_000, (availableInMs ?? Infinity) + 1000);
    return { requeueAfter: next };
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
  async #deleteSet(set: MachineSetObject, all: readonly Machine[]): Promise<Result> {
    const meta = set.metadata ?? {};
    const owned = all.filter((m) => controllerRefOf(m)?.uid === meta.uid);
    const live = owned.filter((m) => !m.metadata?.deletionTimestamp);
    if (live.length > 0) await deleteMachines(live, this.#deps);
    if (owned.length > 0) return { requeueAfter: 5_000 };
    await removeFinalizer(
      this.#deps.client,
      MachineResources.machineSets,
      set,
      Finalizers.machineControllerManager,
    );
    return undefined;
  }
}
