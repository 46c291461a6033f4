import { type NodeObject } from "../../api/core.ts";
import { phaseOf, phaseSince } from "../../api/machine-state.ts";
import { Annotations, Labels, SetEventReasons, Taints } from "../../api/constants.ts";
import { formatDuration } from "../../api/duration.ts";
import type { Machine, MachineStatus } from "../../api/v1alpha1/machine.ts";
import { deleteBootstrapToken, tokenOwnerOf } from "./bootstrap-token.ts";
import { creationTimeoutOf, healthTimeoutOf, nodeConditionsOf } from "./config.ts";
import type { FlowDeps, FlowOutcome } from "./deps.ts";
import { applyNodeTemplate } from "./node-template-guard.ts";
import { type OperationUpdate, withConditions, withOperation } from "./status.ts";

type NodeConditions = NonNullable<MachineStatus["conditions"]>;

/** Healthy: Ready is True and no configured problem condition is True or Unknown (MCM's isHealthy). */
export function isHealthy(conditions: NodeConditions, problemTypes: readonly string[]): boolean {
  if (conditions.length === 0) return false;
  const ready = conditions.find((c) => c.type === "Ready");
  if (ready?.status !== "True") return false;
  return !conditions.some((c) => problemTypes.includes(c.type) && c.status !== "False");
}

const sameConditions = (a: NodeConditions, b: NodeConditions): boolean =>
  a.length === b.length &&
  a.every((c, i) => c.type === b[i]?.type && c.status === b[i]?.status && c.reason === b[i]?.reason);

/**
 * MCM's health reconcile for a machine with a VM and a node label: copy the Node's conditions,
 * Pending/Unknown → Running when healthy (first join recorded), Running → Unknown when not (or when
 * the Node went missing), Pending → Failed after the creation timeout, Unknown → Failed after the
 * health timeout. Returns the machine as it should be written and when to look again.
 */
export async function healthFlow(machine: Machine, deps: FlowDeps): Promise<FlowOutcome> {
  const node = deps.nodes?.store.get(machine.metadata?.labels?.[Labels.node] ?? "");
  const template = node ? await applyNodeTemplate(machine, node, deps) : undefined;
  const now = deps.clock.now();
  const observed = observe(machine, node, deps);
  const healthy = observed.healthy;
  const status = template ? withConditions(machine, observed.status, [template], now) : observed.status;
  const change = transition(machine, node, healthy, now, deps);
  if (await limitedReplacement(change, machine, deps)) {
    return { draft: { ...machine, status }, requeueAfter: deps.config.shortRetryMs };
  }
  let draft: Machine = {
    ...machine,
    status: change ? withOperation({ ...machine, status }, change.update, now) : status,
  };
  if (change) {
    await deps.events.record(
      machine,
      change.eventType,
      change.reason,
      "HealthCheck",
      change.update.description,
    );
    if (change.joined) draft = await joined(draft, now, deps);
  }
  return { draft, requeueAfter: recheckIn(draft, now, deps) };
}

/** A health timeout waits while the machine's deployment already replaces maxReplacements machines. */
async function limitedReplacement(
  change: Transition | undefined,
  machine: Machine,
  deps: FlowDeps,
): Promise<boolean> {
  if (change?.reason !== "HealthTimeout" || !deps.replacementPermit) return false;
  const permit = deps.replacementPermit(machine);
  if (permit.allowed) return false;
  await deps.events.record(
    machine,
    "Warning",
    SetEventReasons.replacementsLimited,
    "HealthCheck",
    permit.message,
  );
  return true;
}

/** The machine's status with the Node's conditions copied in (when they changed), and whether it is healthy. */
function observe(
  machine: Machine,
  node: NodeObject | undefined,
  deps: FlowDeps,
): { status: MachineStatus; healthy: boolean } {
  const current = machine.status ?? {};
  if (!node) return { status: current, healthy: false };
  const observed = (node.status?.conditions ?? []) as NodeConditions;
  const status = sameConditions(current.conditions ?? [], observed)
    ? current
    : { ...current, conditions: observed };
  return { status, healthy: isHealthy(observed, nodeConditionsOf(machine, deps.config)) };
}

interface Transition {
  readonly update: OperationUpdate;
  readonly reason: string;
  readonly eventType: "Normal" | "Warning";
  readonly joined?: boolean;
}

const createdAt = (m: Machine, now: number): number => Date.parse(m.metadata?.creationTimestamp ?? "") || now;

function transition(
  machine: Machine,
  node: NodeObject | undefined,
  healthy: boolean,
  now: number,
  deps: FlowDeps,
): Transition | undefined {
  const phase = phaseOf(machine);
  if (healthy && phase !== "Running") return becameHealthy(machine, node, now);
  if (!healthy && phase === "Running") return becameUnhealthy(machine, node);
  return timedOut(machine, now, deps);
}

function becameHealthy(machine: Machine, node: NodeObject | undefined, now: number): Transition | undefined {
  const name = machine.metadata?.name ?? "";
  const criticalTaint = node?.spec?.taints?.some((t) => t.key === Taints.criticalComponentsNotReady);
  if (phaseOf(machine) === "Pending" && criticalTaint) return undefined;
  const firstJoin = machine.status?.lastOperation?.type === "Create";
  const description = firstJoin
    ? `Machine ${name} successfully joined the cluster in ${formatDuration(now - createdAt(machine, now))}.`
    : `Machine ${name} is healthy again`;
  return {
    update: {
      phase: "Running",
      type: firstJoin ? "Create" : "HealthCheck",
      state: "Successful",
      description,
      timeoutActive: false,
      conditions: [
        ...(firstJoin ? [{ type: "NodeJoined", status: "True", reason: "Joined" } as const] : []),
        { type: "Healthy", status: "True", reason: "NodeHealthy" },
      ],
    },
    reason: firstJoin ? "Joined" : "Healthy",
    eventType: "Normal",
    joined: firstJoin,
  };
}

function becameUnhealthy(machine: Machine, node: NodeObject | undefined): Transition {
  const name = machine.metadata?.name ?? "";
  const problems = (node?.status?.conditions ?? [])
    .filter((c) => (c.type === "Ready") !== (c.status === "True"))
    .map((c) => `${c.type}=${c.status}`);
  const why = node ? `Node conditions: ${problems.join(", ")}` : "Node object went missing";
  const description = `Machine ${name} is unhealthy - changing MachineState to Unknown. ${why}`;
  return {
    update: {
      phase: "Unknown",
      type: "HealthCheck",
      state: "Processing",
      description,
      timeoutActive: true,
      conditions: [{ type: "Healthy", status: "False", reason: node ? "NodeUnhealthy" : "NodeMissing" }],
    },
    reason: "Unhealthy",
    eventType: "Warning",
  };
}

/** Pending past the creation timeout, or Unknown past the health timeout: Failed. */
function timedOut(machine: Machine, now: number, deps: FlowDeps): Transition | undefined {
  const name = machine.metadata?.name ?? "";
  const phase = phaseOf(machine);
  const creation = creationTimeoutOf(machine, deps.config);
  if (phase === "Pending" && now - createdAt(machine, now) > creation) {
    const description = `Machine ${name} failed to join the cluster in ${formatDuration(creation)}.`;
    return {
      update: {
        phase: "Failed",
        type: "Create",
        state: "Failed",
        description,
        timeoutActive: false,
        conditions: [{ type: "NodeJoined", status: "False", reason: "JoinTimeout" }],
      },
      reason: "JoinTimeout",
      eventType: "Warning",
    };
  }
  const health = healthTimeoutOf(machine, deps.config);
  const unknownFor = now - (phaseSince(machine) ?? now);
  if (phase === "Unknown" && !machine.spec.disableHealthTimeout && unknownFor > health) {
    const description = `Machine ${name} is not healthy since ${formatDuration(health)}; marking it Failed`;
    return {
      update: {
        phase: "Failed",
        type: "HealthCheck",
        state: "Failed",
        description,
        timeoutActive: false,
        conditions: [{ type: "Healthy", status: "False", reason: "HealthTimeout" }],
      },
      reason: "HealthTimeout",
      eventType: "Warning",
    };
  }
  return undefined;
}

/** First join: the bootstrap token is no longer needed; the join time is recorded on the Machine. */
async function joined(machine: Machine, now: number, deps: FlowDeps): Promise<Machine> {
  if (deps.target) await deleteBootstrapToken(deps.target, tokenOwnerOf(machine));
  const created = Date.parse(machine.metadata?.creationTimestamp ?? "") || now;
  const meta = machine.metadata ?? {};
  return {
    ...machine,
    metadata: {
      ...meta,
      annotations: { ...meta.annotations, [Annotations.machineJoinDuration]: formatDuration(now - created) },
    },
  };
}

/** Pending and Unknown machines are looked at again before their timeout; others rarely. */
function recheckIn(machine: Machine, now: number, deps: FlowDeps): number {
  const c = deps.config;
  const phase = phaseOf(machine);
  if (phase === "Pending") {
    const created = Date.parse(machine.metadata?.creationTimestamp ?? "") || now;
    return Math.max(1000, Math.min(c.pendingRecheckMs, created + creationTimeoutOf(machine, c) - now + 1000));
  }
  if (phase === "Unknown") {
    const since = phaseSince(machine) ?? now;
    return Math.max(1000, Math.min(c.pendingRecheckMs, since + healthTimeoutOf(machine, c) - now + 1000));
  }
  return c.longRetryMs;
}
