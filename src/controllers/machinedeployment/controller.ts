import { DeploymentConditions, Finalizers } from "../../api/constants.ts";
import { ensureFinalizer, removeFinalizer } from "../../runtime/client/finalizers.ts";
import { controllerKeyOf, controllerRefOf } from "../../runtime/meta/owners.ts";
import { type NodeObject } from "../../api/core.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import { selectorMatches } from "../../runtime/selector.ts";
import { processTriggerDeletion } from "./autoscaler.ts";
import type { DeployDeps, DeploymentObject, MachineObject, SetObject } from "./deps.ts";
import { clearRollout, markRollout } from "./nodes.ts";
import { rollback } from "./rollback.ts";
import { clearSelectorFailure, refuseDeployment } from "./selector-guard.ts";
import { isScalingEvent, recreateStep, rollingStep, scaleProportionally } from "./rollout.ts";
import { byAge, claimSets, revisionOf, splitSets, strategyOf } from "./sets.ts";
import {
  countStatus,
  isComplete,
  pausedCondition,
  rolloutStatus,
  strategyCondition,
  writeDeploymentStatus,
} from "./status.ts";

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
  readonly clock?: Clock;
}

const FAST_REQUEUE_MS = 1_000;
const STEP_REQUEUE_MS = 2_000;

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

  constructor(opts: MachineDeploymentControllerOptions) {
    const { manager, namespace } = opts;
    this.#resyncMs = opts.resyncMs ?? 10 * 60_000;
    this.deployments = manager.informer<DeploymentObject>(MachineResources.machineDeployments, { namespace });
    this.sets = manager.informer<SetObject>(MachineResources.machineSets, { namespace });
    const machines = manager.informer<MachineObject>(MachineResources.machines, {
      namespace,
      indexers: { controller: Indexers.controller },
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
    manager.addController(this.#controller);
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

  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const cached = this.deployments.store.get(ctx.key);
    if (!cached) return undefined;
    const deps = this.#deps;
    const inNamespace = this.sets.store
      .list()
      .filter((s) => s.metadata?.namespace === cached.metadata?.namespace);
    if (cached.metadata?.deletionTimestamp) return this.#delete(cached, inNamespace);
    if (await refuseDeployment(cached, deps)) return { requeueAfter: this.#resyncMs };
    const finalized = await ensureFinalizer(
      this.#deps.client,
      MachineResources.machineDeployments,
      cached,
      Finalizers.machineControllerManager,
    );
    const d = await clearSelectorFailure(finalized, deps);
    const sets = await claimSets(d, inNamespace, deps);
    if (await processTriggerDeletion(d, sets, deps)) return { requeueAfter: FAST_REQUEUE_MS };
    const now = deps.clock.now();
    if (d.spec?.rollbackTo && !d.spec.paused) {
      await rollback(d, sets, deps);
      return undefined;
    }
    if (d.spec?.paused || isScalingEvent(d, sets)) {
      await scaleProportionally(d, sets, deps);
      if (d.spec?.paused) await this.#prune(d, sets);
      const status = pausedCondition(d, countStatus(d, sets, now), now);
      await writeDeploymentStatus(d, status, deps);
      return { requeueAfter: this.#resyncMs };
    }
    return this.#rollout(d, sets, now);
  }

  async #rollout(d: DeploymentObject, sets: SetObject[], now: number): Promise<Result> {
    const deps = this.#deps;
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
      await writeDeploymentStatus(d, pausedCondition(d, status, now), deps);
      return { requeueAfter: this.#resyncMs };
    }
    const { newSet, oldSets } = splitSets(d, sets);
    await markRollout(newSet, oldSets, deps);
    const oldMachines = oldSets.reduce(
      (n, s) => n + deps.machines.store.byIndex("controller", s.metadata?.uid ?? "").length,
      0,
    );
    const scaled =
      strategy === "Recreate"
        ? await recreateStep(d, sets, oldMachines, deps)
        : await rollingStep(d, sets, deps);
    const { status, recheckMs } = rolloutStatus(d, sets, now);
    await writeDeploymentStatus(d, pausedCondition(d, strategyCondition(status, undefined, now), now), deps);
    if (!scaled && isComplete(d, status)) {
      await clearRollout(newSet, deps);
      await this.#prune(d, sets);
    }
    // While a step is under way, look again soon: not every step ends in an event of a set.
    const next = scaled ? STEP_REQUEUE_MS : (recheckMs ?? this.#resyncMs);
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
  async #delete(d: DeploymentObject, all: readonly SetObject[]): Promise<Result> {
    const meta = d.metadata ?? {};
    const owned = all.filter((s) => controllerRefOf(s)?.uid === meta.uid);
    for (const s of owned.filter((o) => !o.metadata?.deletionTimestamp)) {
      await this.#deps.client.delete(
        MachineResources.machineSets,
        s.metadata?.namespace,
        s.metadata?.name ?? "",
      );
    }
    if (owned.length > 0) return { requeueAfter: 5_000 };
    await removeFinalizer(
      this.#deps.client,
      MachineResources.machineDeployments,
      d,
      Finalizers.machineControllerManager,
    );
    return undefined;
  }
}
