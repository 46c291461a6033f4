import { Annotations, DeploymentConditions, Labels, SafetyReasons } from "../../api/constants.ts";
import { upsertCondition } from "../../api/conditions.ts";
import { MachineResources } from "../../api/resources.ts";
import { maxSurgeOf } from "../../api/strategy.ts";
import { timestamp } from "../../api/time.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { patchObject } from "../../runtime/client/patch.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import { controllerKeyOf } from "../../runtime/meta/owners.ts";
import type { DeploymentObject, MachineObject, MachineSetObject } from "../objects.ts";
import type { SafetyConfig } from "./config.ts";
import { SafetyMetrics } from "./metrics.ts";

export interface OvershootOptions {
  readonly manager: Manager;
  readonly namespace: string;
  readonly config: SafetyConfig;
  readonly clock?: Clock;
}

/** A set's freeze limits: frozen at `high` machines or more, unfrozen at `low` or fewer. */
export interface FreezeLimits {
  readonly high: number;
  readonly low: number;
}

/**
 * MCM's limits: a deployment's set may hold the deployment's replicas, its maxSurge and --safety-up
 * machines; a standalone set twice its replicas and --safety-up. --safety-down below that unfreezes.
 */
export function freezeLimits(
  set: MachineSetObject,
  deployment: DeploymentObject | undefined,
  config: SafetyConfig,
): FreezeLimits {
  const high = deployment
    ? (deployment.spec?.replicas ?? 0) + maxSurgeOf(deployment) + config.safetyUp
    : 2 * (set.spec?.replicas ?? 0) + config.safetyUp;
  return { high, low: high - config.safetyDown };
}

/** Machines by the uids of their owners. */
const OWNER_INDEX = "safety-owner-uid";

type Verdict = "freeze" | "unfreeze" | undefined;

/** What a set's count asks for: freeze at the high limit, unfreeze at the low one or on request. */
export function verdictOf(
  frozen: boolean,
  count: number,
  limits: FreezeLimits,
  unfreezeAsked: boolean,
): Verdict {
  if (frozen) return unfreezeAsked || count <= limits.low ? "unfreeze" : undefined;
  return count >= limits.high && !unfreezeAsked ? "freeze" : undefined;
}

const isFrozen = (o: { metadata?: { labels?: Record<string, string> } }): boolean =>
  o.metadata?.labels?.[Labels.freeze] === "True";
const unfreezeAsked = (o: { metadata?: { annotations?: Record<string, string> } } | undefined): boolean =>
  o?.metadata?.annotations?.[Annotations.unfreeze] !== undefined;

/** The object with the freeze label set or removed, and the unfreeze annotation dropped once acted on. */
function withFreeze<T extends MachineSetObject | DeploymentObject>(
  o: T,
  frozen: boolean,
  dropUnfreeze: boolean,
): T {
  const meta = o.metadata ?? {};
  const without = (m: Record<string, string> | undefined, key: string): Record<string, string> =>
    Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => k !== key));
  const labels = frozen ? { ...meta.labels, [Labels.freeze]: "True" } : without(meta.labels, Labels.freeze);
  const annotations = dropUnfreeze
    ? without(meta.annotations, Annotations.unfreeze)
    : { ...meta.annotations };
  return { ...o, metadata: { ...meta, labels, annotations } };
}

/**
 * MCM's overshooting safety (--safety-up, --safety-down, --machine-safety-overshooting-period):
 * every period and on every change of a set's machines, a set that holds as many machines as its
 * high limit (machines being deleted do not count, so a large scale-down never freezes) gets the
 * `freeze: "True"` label and a `Frozen` condition, and so does its deployment; a frozen set creates
 * nothing (its deletions go on). It is unfrozen at the low limit or by the
 * `safety.machine.sapcloud.io/unfreeze` annotation on it or its deployment; a deployment is frozen
 * exactly while one of its sets is.
 */
export class OvershootGuard {
  readonly #opts: OvershootOptions;
  readonly #manager: Manager;
  readonly #sets: Informer<MachineSetObject>;
  readonly #deployments: Informer<DeploymentObject>;
  readonly #machines: Informer<MachineObject>;
  readonly #metrics: SafetyMetrics;
  readonly #clock: Clock;

  constructor(opts: OvershootOptions) {
    this.#opts = opts;
    const { manager, namespace } = opts;
    this.#manager = manager;
    this.#clock = opts.clock ?? realClock;
    this.#metrics = new SafetyMetrics(manager.metrics.registry);
    this.#sets = manager.informer<MachineSetObject>(MachineResources.machineSets, { namespace });
    this.#deployments = manager.informer<DeploymentObject>(MachineResources.machineDeployments, {
      namespace,
    });
    this.#machines = manager.informer<MachineObject>(MachineResources.machines, {
      namespace,
      indexers: { [OWNER_INDEX]: (m) => (m.metadata?.ownerReferences ?? []).map((r) => r.uid) },
    });
    const controller = new Controller({
      name: "machine-safety-overshooting",
      clock: this.#clock,
      logger: manager.logger,
      metrics: manager.metrics,
      reconcile: (ctx) => this.#reconcile(ctx),
    });
    controller.watch(this.#sets);
    controller.watch(this.#machines, (m) => {
      const key = controllerKeyOf(m, "MachineSet");
      return key ? [key] : [];
    });
    controller.watch(this.#deployments, (d) => this.#setsOf(objectKey(d)).map(objectKey));
    manager.addController(controller);
  }

  #setsOf(deploymentKey: string): MachineSetObject[] {
    return this.#sets.store.list().filter((s) => controllerKeyOf(s, "MachineDeployment") === deploymentKey);
  }

  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const set = this.#sets.store.get(ctx.key);
    this.#metrics.frozenSets.set(this.#sets.store.list().filter(isFrozen).length);
    if (!set || set.metadata?.deletionTimestamp) return undefined;
    const { deployment, deploymentKey, count, limits, asked } = this.#assess(set);
    const verdict = verdictOf(isFrozen(set), count, limits, asked);
    const now = this.#clock.now();
    if (verdict === "freeze") await this.#freeze(ctx, set, count, limits, now);
    const stray = !isFrozen(set) && set.status?.machineSetCondition?.some((c) => c.type === "Frozen");
    if (verdict === "unfreeze" || stray) {
      const why = asked ? SafetyReasons.unfreezeAnnotation : `${count} machines <= ${limits.low}`;
      await this.#unfreeze(set, why);
    }
    const setFrozen = verdict === "freeze" || (isFrozen(set) && verdict !== "unfreeze");
    if (deployment && deploymentKey) {
      await this.#syncDeployment(deployment, deploymentKey, ctx.key, setFrozen, now);
    }
    return { requeueAfter: this.#opts.config.overshootPeriodMs };
  }

  /** The set's deployment, its machines not being deleted, its limits, and whether an unfreeze was asked for. */
  #assess(set: MachineSetObject) {
    const deploymentKey = controllerKeyOf(set, "MachineDeployment");
    const deployment = deploymentKey ? this.#deployments.store.get(deploymentKey) : undefined;
    const uid = set.metadata?.uid;
    const owned = uid ? this.#machines.store.byIndex(OWNER_INDEX, uid) : [];
    return {
      deployment,
      deploymentKey,
      count: owned.filter((m) => !m.metadata?.deletionTimestamp).length,
      limits: freezeLimits(set, deployment, this.#opts.config),
      asked: unfreezeAsked(set) || unfreezeAsked(deployment),
    };
  }

  async #freeze(
    ctx: ReconcileContext,
    set: MachineSetObject,
    count: number,
    limits: FreezeLimits,
    now: number,
  ): Promise<void> {
    const message = `The number of machines backing MachineSet: ${set.metadata?.name} is ${count} >= ${limits.high} which is the Max-ScaleUp-Limit`;
    const reason = DeploymentConditions.reasons.overShootingReplicaCount;
    const condition = { type: "Frozen", status: "True", reason, message };
    const machineSetCondition = upsertCondition(set.status?.machineSetCondition, condition, now);
    const draft = { ...withFreeze(set, true, false), status: { ...set.status, machineSetCondition } };
    await patchObject(this.#manager.client, MachineResources.machineSets, set, draft);
    await this.#manager.events.record(set, "Warning", SafetyReasons.frozeSet, "Safety", message);
    ctx.log.warn({ machines: count, limit: limits.high }, "MachineSet frozen for overshooting");
  }

  async #unfreeze(set: MachineSetObject, why: string): Promise<void> {
    const machineSetCondition = (set.status?.machineSetCondition ?? []).filter((c) => c.type !== "Frozen");
    const draft = { ...withFreeze(set, false, true), status: { ...set.status, machineSetCondition } };
    await patchObject(this.#manager.client, MachineResources.machineSets, set, draft);
    const note = `MachineSet unfrozen: ${why}`;
    await this.#manager.events.record(set, "Normal", SafetyReasons.unfrozeSet, "Safety", note);
  }

  /** The deployment frozen exactly while one of its sets is (MachineDeploymentStateSync). */
  async #syncDeployment(
    deployment: DeploymentObject,
    deploymentKey: string,
    setKey: string,
    setFrozen: boolean,
    now: number,
  ): Promise<void> {
    const anyFrozen =
      setFrozen || this.#setsOf(deploymentKey).some((s) => objectKey(s) !== setKey && isFrozen(s));
    const hasCondition = deployment.status?.conditions?.some((c) => c.type === "Frozen") ?? false;
    if (
      anyFrozen === isFrozen(deployment) &&
      anyFrozen === hasCondition &&
      !(!anyFrozen && unfreezeAsked(deployment))
    ) {
      return;
    }
    const R = DeploymentConditions.reasons;
    const conditions = anyFrozen
      ? upsertCondition(
          deployment.status?.conditions,
          {
            type: "Frozen",
            status: "True",
            reason: setFrozen ? R.overShootingReplicaCount : R.machineDeploymentStateSync,
            message: "A MachineSet of the deployment holds more machines than its limit allows",
            lastUpdateTime: timestamp(now),
          },
          now,
        )
      : (deployment.status?.conditions ?? []).filter((c) => c.type !== "Frozen");
    const draft = {
      ...withFreeze(deployment, anyFrozen, !anyFrozen),
      status: { ...deployment.status, conditions },
    };
    await patchObject(this.#manager.client, MachineResources.machineDeployments, deployment, draft);
  }
}
