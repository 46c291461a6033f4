import { MachineEventReasons } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { KubeApiError } from "../../runtime/client/raw.ts";
import type { FlowDeps, NodeObject } from "./deps.ts";
import { syncNodeTemplate } from "./node-template.ts";
import type { ConditionUpdate } from "./status.ts";

const TYPE = "NodeTemplateApplied";

/** The apiserver refused the Node write as invalid (422, or 400 for a malformed patch). */
const isInvalid = (err: unknown): err is KubeApiError =>
  err instanceof KubeApiError && (err.code === 422 || err.code === 400);

/**
 * Applies spec.nodeTemplate to the Node without letting a template the Node refuses (an invalid
 * label key, an unknown taint effect: objects admission did not see) stop health checking: the
 * refusal becomes NodeTemplateApplied=False with the apiserver's message and one Warning Event
 * (none again while the condition says the same). Returns the condition to set, if it changes:
 * True again once a template applies after a refusal. Other errors (conflicts, an unreachable
 * target) are thrown as before and retried.
 */
export async function applyNodeTemplate(
  machine: Machine,
  node: NodeObject,
  deps: FlowDeps,
): Promise<ConditionUpdate | undefined> {
  const old = machine.status?.machineConditions?.find((c) => c.type === TYPE);
  try {
    await syncNodeTemplate(machine, node, deps);
  } catch (err) {
    if (!isInvalid(err)) throw err;
    const message = `Node ${node.metadata?.name ?? ""} refused spec.nodeTemplate: ${err.message}`;
    if (old?.status !== "False" || old.message !== message)
      await deps.events.record(
        machine,
        "Warning",
        MachineEventReasons.nodeTemplateRefused,
        "HealthCheck",
        message,
      );
    return { type: TYPE, status: "False", reason: MachineEventReasons.nodeTemplateRefused, message };
  }
  return old?.status === "False" ? { type: TYPE, status: "True", reason: "Applied" } : undefined;
}
