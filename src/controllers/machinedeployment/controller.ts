import {
  DeploymentConditions,
  Finalizers,
  Labels,
  MCM_RETRY_PERIODS,
  type RetryPeriods,
} from "../../api/constants.ts";
import { controllerKeyOf, controllerRefOf } from "../../runtime/meta/owners.ts";
import { type NodeObject } from "../../api/core.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { patchObject, withFinalizer, withoutFinalizer } from "../../runtime/client/patch.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import { type Phase, type PhaseResult, runPhases, type Scope } from "../../runtime/controller/phases.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import { selectorMatches } from "../../runtime/selector.ts";
import { processTriggerDeletion } from "./autoscaler.ts";
import type { DeployDeps, DeploymentObject, MachineObject, SetObject } from "./deps.ts";
import { clearRollout, markRollout, rolloutMarked } from "./nodes.ts";
import { rollback } from "./rollback.ts";
import { refusedStatus, withoutSelectorFailure } from "./selector-guard.ts";
import { isScalingEvent, recreateStep, rollingStep, scaleProportionally } from "./rollout.ts";
import { byAge, claimSets, HashCollision, revisionOf, splitSets, strategyOf } from "./sets.ts";
import { countStatus, isComplete, pausedCondition, rolloutStatus, strategyCondition } from "./status.ts";

export interface MachineDeploymentControllerOptions {
  readonly manager: Manager;
  readonly namespace: string;
  /** Client of the target cluster (Nodes); undefined without one. */
  readonly target: KubeClient | undefined;
  /** Workers (--concurrent-syncs). Default 10. */
  readonly workers?: number;
  /** --autoscaler-scaledown-annotation-during-rollout. Default true. */
  readonly scaleDownAnnotationDuringRollout?: boolean;
  readonly resyncMs?: number;
  /** Requeue delays. Default MCM's. */
  readonly retry?: RetryPeriods;
  readonly clock?: Clock;
}

/** What one reconcile of a deployment read, and the draft of the deployment its phases change. */
interface DeploymentScope extends Scope<DeploymentObject> {
  readonly read: DeploymentObject;
  /** The namespace's sets, from the cache. */
  readonly inNamespace: readonly SetObject[];
  /** The deployment's sets (after adoption). */
  sets: SetObject[];
}

/**
 * The MachineDeployment controller (the Kubernetes Deployment controller as MCM adapted it):
 * revisions of MachineSets, RollingUpdate and Recreate, pause, rollback, proportional scaling,
 * progress deadline, the cluster-autoscaler's targeted scale-down and rollout marks on Nodes.
 */
export class MachineDeploymentController {
  readonly deployments: Informer<DeploymentObject>;
  readonly sets: Informer<SetObject>;
  readonly #deps: DeployDeps;
  readonly #controller: Controller;
  readonly #resyncMs: number;
  readonly #retry: RetryPeriods;
  readonly #phases: readonly Phase<DeploymentScope>[] = [
    (s) => this.#selectorGuard(s),
    (s) => {
      s.draft = withFinalizer(s.draft, Finalizers.machineControllerManager);
      return undefined;
    },
    async (s) => {
      s.sets = await claimSets(s.read, [...s.inNamespace], this.#deps);
      return undefined;
    },
    (s) => this.#triggerDeletion(s),
    (s) => this.#rollback(s),
    (s) => this.#scaleOrRollout(s),
  ];
  readonly #deletion: readonly Phase<DeploymentScope>[] = [(s) => this.#delete(s)];

  constructor(opts: MachineDeploymentControllerOptions) {
    const { manager, namespace } = opts;
    this.#resyncMs = opts.resyncMs ?? MCM_RETRY_PERIODS.longRetryMs;
    this.#retry = opts.retry ?? MCM_RETRY_PERIODS;
    this.deployments = manager.informer<DeploymentObject>(MachineResources.machineDeployments, { namespace });
    this.sets = manager.informer<SetObject>(MachineResources.machineSets, { namespace });
    const machines = manager.informer<MachineObject>(MachineResources.machines, {
      namespace,
      indexers: { controller: Indexers.controller, node: Indexers.label(Labels.node) },
    });
    const nodes = opts.target
      ? manager.informer<NodeObject>(Resources.nodes, { client: opts.target })
      : undefined;
    this.#deps = {
      client: manager.client,
      target: opts.target,
      nodes,
      machines,
      events: manager.events,
      clock: opts.clock ?? realClock,
      scaleDownAnnotationDuringRollout: opts.scaleDownAnnotationDuringRollout ?? true,
    };
    this.#controller = new Controller({
      name: "machinedeployment",
      clock: this.#deps.clock,
      workers: opts.workers ?? 10,
      logger: manager.logger,
      metrics: manager.metrics,
      reconcile: (ctx) => this.#reconcile(ctx),
    });
    this.#controller.watch(this.deployments);
    this.#controller.watch(this.sets, (s) => this.#deploymentsOf(s));
    // A Node that carries the rollout's marks is looked at again when the cache shows them, so a
    // rollout that ended before the cache did still clears them.
    if (nodes) this.#controller.watch(nodes, (n) => (rolloutMarked(n) ? this.#deploymentsOfNode(n) : []));
    manager.addController(this.#controller);
  }

  #deploymentsOfNode(n: NodeObject): string[] {
    const keys = this.#deps.machines.store.byIndex("node", n.metadata?.name ?? "").flatMap((m) => {
      const setKey = controllerKeyOf(m, "MachineSet");
      const set = setKey ? this.sets.store.get(setKey) : undefined;
      return set ? this.#deploymentsOf(set) : [];
    });
    return [...new Set(keys)];
  }

  #deploymentsOf(s: SetObject): string[] {
    const owner = controllerKeyOf(s, "MachineDeployment");
    if (owner) return [owner];
    if (controllerRefOf(s)) return [];
    return this.deployments.store
      .list()
      .filter((d) => selectorMatches(d.spec?.selector, s.metadata?.labels))
      .map(objectKey);
  }

  /**
   * Selector guard → finalizer → claim sets → the cluster-autoscaler's trigger-deletion → rollback → scaling or one
   * rollout step with status, then one write of the deployment; a deleted deployment deletes its
   * sets and, once none is left, drops its finalizer.
   */
  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const read = this.deployments.store.get(ctx.key);
    if (!read) return undefined;
    const ns = read.metadata?.namespace;
    const inNamespace = this.sets.store.list().filter((s) => s.metadata?.namespace === ns);
    const scope: DeploymentScope = { read, draft: read, inNamespace, sets: [] };
    const phases = read.metadata?.deletionTimestamp ? this.#deletion : this.#phases;
    return runPhases(scope, phases, (draft) =>
      patchObject(this.#deps.client, MachineResources.machineDeployments, read, draft),
    );
  }

  /**
   * A deployment whose selector cannot work only reports why (selector-guard.ts); once it is fixed,
   * the InvalidSelector condition goes.
   */
  async #selectorGuard(s: DeploymentScope): Promise<PhaseResult> {
    const refused = await refusedStatus(s.read, this.#deps);
    if (!refused) {
      s.draft = withoutSelectorFailure(s.draft);
      return undefined;
    }
    s.draft = { ...s.draft, status: refused };
    return { requeueAfter: this.#resyncMs, stop: true };
  }

  /** Machines the autoscaler named are marked first; sets wait until the cache shows the marks. */
  async #triggerDeletion(s: DeploymentScope): Promise<PhaseResult> {
    const { draft, pending } = await processTriggerDeletion(s.draft, s.sets, this.#deps);
    s.draft = draft;
    return pending ? { requeueAfter: this.#retry.conflictRetryMs, stop: true } : undefined;
  }

  async #rollback(s: DeploymentScope): Promise<PhaseResult> {
    if (!s.read.spec?.rollbackTo || s.read.spec.paused) return undefined;
    s.draft = await rollback(s.draft, s.sets, this.#deps);
    return { stop: true };
  }

  /** Works on the draft: the deployment as read, with what the phases before changed. */
  async #scaleOrRollout(s: DeploymentScope): Promise<PhaseResult> {
    const d = s.draft;
    const now = this.#deps.clock.now();
    if (d.spec?.paused || isScalingEvent(d, s.sets)) {
      await scaleProportionally(d, s.sets, this.#deps);
      if (d.spec?.paused) await this.#prune(d, s.sets);
      s.draft = { ...s.draft, status: pausedCondition(d, countStatus(d, s.sets, now), now) };
      return { requeueAfter: this.#resyncMs };
    }
    try {
      return await this.#rollout(s, now);
    } catch (err) {
      if (!(err instanceof HashCollision)) throw err;
      // The next sync hashes the template with the new count, so the new set gets another name.
      s.draft = { ...s.draft, status: { ...s.draft.status, collisionCount: err.collisionCount } };
      return { requeueAfter: this.#retry.conflictRetryMs };
    }
  }

  async #rollout(s: DeploymentScope, now: number): Promise<PhaseResult> {
    const deps = this.#deps;
    const { draft: d, sets } = s;
    const strategy = strategyOf(d);
    if (strategy === "InPlaceUpdate") {
      // Admission refuses it; a deployment stored before the CRD did is only scaled.
      const note = "The InPlaceUpdate strategy is not supported by sprout; use RollingUpdate or Recreate.";
      await deps.events.record(
        d,
        "Warning",
        DeploymentConditions.reasons.strategyNotSupported,
        "Rollout",
        note,
      );
      const status = strategyCondition(countStatus(d, sets, now), note, now);
      s.draft = { ...s.draft, status: pausedCondition(d, status, now) };
      return { requeueAfter: this.#resyncMs };
    }
    const { newSet, oldSets } = splitSets(d, sets);
    await markRollout(newSet, oldSets, deps);
    const oldMachines = oldSets.reduce(
      (n, set) => n + deps.machines.store.byIndex("controller", set.metadata?.uid ?? "").length,
      0,
    );
    const scaled =
      strategy === "Recreate"
        ? await recreateStep(d, sets, oldMachines, deps)
        : await rollingStep(d, sets, deps);
    const { status, recheckMs } = rolloutStatus(d, sets, now);
    s.draft = { ...s.draft, status: pausedCondition(d, strategyCondition(status, undefined, now), now) };
    if (!scaled && isComplete(d, status)) {
      await clearRollout(newSet, deps);
      await this.#prune(d, sets);
    }
    // While a step is under way, look again soon: not every step ends in an event of a set.
    const next = scaled ? this.#retry.shortRetryMs : (recheckMs ?? this.#resyncMs);
    return { requeueAfter: Math.min(next, this.#resyncMs) };
  }

  /** Old sets at zero beyond revisionHistoryLimit are deleted, oldest first. */
  async #prune(d: DeploymentObject, sets: readonly SetObject[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const { oldSets } = splitSets(d, sets);
    const idle = oldSets
      .filter(
        (s) =>
          (s.spec?.replicas ?? 0) === 0 && (s.status?.replicas ?? 0) === 0 && !s.metadata?.deletionTimestamp,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b) || byAge(a, b));
    for (const s of idle.slice(0, Math.max(0, idle.length - limit))) {
      await this.#deps.client.delete(
        MachineResources.machineSets,
        s.metadata?.namespace,
        s.metadata?.name ?? "",
      );
    }
  }

  /** A deleted deployment deletes its sets (which delete their machines); the finalizer goes last. */
  async #delete(s: DeploymentScope): Promise<PhaseResult> {
    const uid = s.read.metadata?.uid;
    const owned = s.inNamespace.filter((set) => controllerRefOf(set)?.uid === uid);
    for (const set of owned.filter((o) => !o.metadata?.deletionTimestamp)) {
      await this.#deps.client.delete(
        MachineResources.machineSets,
        set.metadata?.namespace,
        set.metadata?.name ?? "",
      );
    }
    if (owned.length > 0) return { requeueAfter: this.#retry.shortRetryMs };
    s.draft = withoutFinalizer(s.draft, Finalizers.machineControllerManager);
    return undefined;
  }
}
