import { phaseOf } from "../../api/machine-state.ts";
import {
  DELETION_MARKERS,
  DELETION_STEPS,
  type DeletionStep,
  Finalizers,
  Labels,
} from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { TRANSIENT_CODES } from "../../driver/codes.ts";
import { MachineError } from "../../driver/errors.ts";
import { MachineResources } from "../../api/resources.ts";
import { PatchHelper, withoutFinalizer } from "../../runtime/client/patch.ts";
import { Resources } from "../../runtime/client/resources.ts";
import type { Result } from "../../runtime/controller/controller.ts";
import { deleteBootstrapToken, tokenOwnerOf } from "./bootstrap-token.ts";
import type { MachineWork } from "./context.ts";
import type { FlowDeps } from "./deps.ts";
import { drainStep } from "./drain-step.ts";
import type { StepOutcome } from "./step-outcome.ts";
import { type ConditionUpdate, withOperation } from "./status.ts";

/** The step a deletion is at: status.deletionStep, else MCM's marker text, else the start. */
export function currentStep(machine: Machine): DeletionStep | undefined {
  const status = machine.status;
  if (status?.deletionStep) return status.deletionStep;
  if (phaseOf(machine) !== "Terminating") return undefined;
  const description = status?.lastOperation?.description ?? "";
  return DELETION_STEPS.find((step) => description.includes(DELETION_MARKERS[step]));
}

/**
 * MCM's deletion order, one step per state stored in status (deletionStep and MCM's marker text), so
 * a controller killed at any point resumes where it stopped: Terminating → find the VM and Node →
 * drain → (forced: delete VolumeAttachments) → delete the VM → delete the Node → remove the finalizer.
 */
export async function deletionFlow(work: MachineWork, deps: FlowDeps): Promise<Result> {
  const machine = new PatchHelper(deps.client, MachineResources.machines, work.machine);
  if (!work.machine.metadata?.finalizers?.includes(Finalizers.machineControllerManager)) return undefined;
  let step = currentStep(work.machine);
  if (!step) {
    step = "GetVMStatus";
    await enterStep(machine, step, deps);
    await deps.events.record(machine.current, "Normal", "Terminating", "Delete", "deletion started");
  }
  for (;;) {
    const outcome = await runStep(step, { ...work, machine: machine.current }, machine, deps);
    if ("retryAfter" in outcome) {
      const description = `${DELETION_MARKERS[step]}: ${outcome.note}`;
      const conditions = drainCondition(step, "False", "Draining");
      const status = withOperation(
        machine.current,
        { type: "Delete", state: "Failed", description, conditions },
        deps.clock.now(),
      );
      await machine.patch({ ...machine.current, status });
      return { requeueAfter: outcome.retryAfter };
    }
    if (outcome.next === "Done") return undefined;
    const drained = drainCondition(
      step,
      "True",
      outcome.note?.startsWith("Drain forced") ? "DrainForced" : "Drained",
    );
    step = outcome.next;
    await enterStep(machine, step, deps, outcome.note, drained);
  }
}

/** The Drained condition, set only by the Drain step. */
function drainCondition(step: DeletionStep, status: "True" | "False", reason: string): ConditionUpdate[] {
  return step === "Drain" ? [{ type: "Drained", status, reason }] : [];
}

/** Persists the step reached (status.deletionStep and MCM's marker text), so a restart resumes there. */
async function enterStep(
  machine: PatchHelper<Machine>,
  step: DeletionStep,
  deps: FlowDeps,
  note?: string,
  conditions: readonly ConditionUpdate[] = [],
): Promise<void> {
  const description = note ? `${note}. ${DELETION_MARKERS[step]}` : DELETION_MARKERS[step];
  const status = withOperation(
    machine.current,
    {
      phase: "Terminating",
      type: "Delete",
      state: "Processing",
      description,
      timeoutActive: false,
      conditions,
    },
    deps.clock.now(),
  );
  await machine.patch({ ...machine.current, status: { ...status, deletionStep: step } });
}

function runStep(
  step: DeletionStep,
  work: MachineWork,
  machine: PatchHelper<Machine>,
  deps: FlowDeps,
): Promise<StepOutcome> {
  switch (step) {
    case "GetVMStatus":
      return findVm(work, machine, deps);
    case "Drain":
      return drainStep(work.machine, deps);
    case "DeleteVolumeAttachments":
      return deleteVolumeAttachments(work.machine, deps);
    case "DeleteVM":
      return deleteVm(work, machine, deps);
    case "DeleteNode":
      return deleteNode(work.machine, deps);
    case "RemoveFinalizer":
      return removeFinalizer(machine);
  }
}

const retry = (err: MachineError, deps: FlowDeps, otherwise: number): StepOutcome => ({
  retryAfter: TRANSIENT_CODES.includes(err.code) ? deps.config.shortRetryMs : otherwise,
  note: `${err.code}: ${err.message}`,
});

/** Makes sure the node label names the machine's Node (from a Node label or the driver). */
async function findVm(work: MachineWork, helper: PatchHelper<Machine>, deps: FlowDeps): Promise<StepOutcome> {
  const machine = work.machine;
  if (!deps.target) return { next: "DeleteVM" };
  if (machine.metadata?.labels?.[Labels.node]) return { next: "Drain" };
  const name = machine.metadata?.name ?? "";
  const byLabel = deps.nodes?.store.list().find((n) => n.metadata?.labels?.[Labels.nodeMachineName] === name);
  const found = byLabel?.metadata?.name
    ? { nodeName: byLabel.metadata.name }
    : await nodeNameFromDriver(work, deps);
  if ("outcome" in found) return found.outcome;
  if (found.nodeName) {
    const meta = machine.metadata ?? {};
    await helper.patch({
      ...machine,
      metadata: { ...meta, labels: { ...meta.labels, [Labels.node]: found.nodeName } },
    });
  }
  return { next: "Drain" };
}

async function nodeNameFromDriver(
  work: MachineWork,
  deps: FlowDeps,
): Promise<{ nodeName?: string } | { outcome: StepOutcome }> {
  try {
    return { nodeName: (await work.driver.getMachineStatus(work)).nodeName };
  } catch (err) {
    const e = MachineError.from(err);
    if (e.code === "NotFound")
      return {
        outcome: { next: "Drain", note: "VM was not found at provider. Moving forward to node drain" },
      };
    if (e.code === "Unimplemented" || e.code === "Uninitialized") return {};
    return { outcome: retry(e, deps, deps.config.mediumRetryMs) };
  }
}

type VolumeAttachment = {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
};

async function deleteVolumeAttachments(machine: Machine, deps: FlowDeps): Promise<StepOutcome> {
  const nodeName = machine.metadata?.labels?.[Labels.node];
  if (!deps.target || !nodeName) return { next: "DeleteVM" };
  const all = await deps.target.list<VolumeAttachment>(Resources.volumeAttachments);
  const mine = all.items.filter((va) => va.spec?.nodeName === nodeName);
  if (mine.length === 0) return { next: "DeleteVM" };
  for (const va of mine) {
    if (!va.metadata?.deletionTimestamp)
      await deps.target.delete(Resources.volumeAttachments, undefined, va.metadata?.name ?? "");
  }
  return {
    retryAfter: deps.config.shortRetryMs,
    note: `waiting for ${mine.length} VolumeAttachment(s) to go`,
  };
}

async function deleteVm(
  work: MachineWork,
  machine: PatchHelper<Machine>,
  deps: FlowDeps,
): Promise<StepOutcome> {
  if (work.vmUnreachable) {
    const vm = work.machine.spec.providerID ?? "(none recorded)";
    const note = `VM ${vm} was not deleted: ${work.vmUnreachable}; delete it at the provider`;
    await deps.events.record(work.machine, "Warning", "VMNotDeleted", "Delete", note);
    return { next: "DeleteNode", note };
  }
  let lastKnownState: string | undefined;
  try {
    lastKnownState = (await work.driver.deleteMachine(work)).lastKnownState;
  } catch (err) {
    const e = MachineError.from(err);
    if (e.code !== "NotFound") return retry(e, deps, deps.config.longRetryMs);
  }
  if (lastKnownState !== undefined) {
    await machine.patch({ ...machine.current, status: { ...machine.current.status, lastKnownState } });
  }
  await deps.events.record(work.machine, "Normal", "VMDeleted", "Delete", "VM deleted");
  return { next: "DeleteNode", note: "VM deletion was successful" };
}

/** Deletes the Node, and the bootstrap token of a machine that never joined (a joined one's is gone). */
async function deleteNode(machine: Machine, deps: FlowDeps): Promise<StepOutcome> {
  const nodeName = machine.metadata?.labels?.[Labels.node];
  if (deps.target) await deleteBootstrapToken(deps.target, tokenOwnerOf(machine));
  if (deps.target && nodeName) {
    const node = deps.nodes?.store.get(nodeName);
    const finalizers = node?.metadata?.finalizers ?? [];
    if (finalizers.includes(Finalizers.node)) {
      await deps.target.patch(Resources.nodes, undefined, nodeName, {
        metadata: {
          finalizers: finalizers.filter((f) => f !== Finalizers.node),
          resourceVersion: node?.metadata?.resourceVersion,
        },
      });
    }
    await deps.target.delete(Resources.nodes, undefined, nodeName);
  }
  return { next: "RemoveFinalizer" };
}

async function removeFinalizer(machine: PatchHelper<Machine>): Promise<StepOutcome> {
  await machine.patch(withoutFinalizer(machine.current, Finalizers.machineControllerManager));
  return { next: "Done" };
}
