import { Annotations, Labels, SecretKeys } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { CreateMachineResponse, SecretData } from "../../driver/driver.ts";
import { retryClassOf } from "../../driver/codes.ts";
import { MachineError } from "../../driver/errors.ts";
import type { Result } from "../../runtime/controller/controller.ts";
import { substitutePlaceholders } from "../../bootstrap/placeholders.ts";
import { ensureBootstrapToken, tokenIdOf, tokenOwnerOf } from "./bootstrap-token.ts";
import { creationTimeoutOf } from "./config.ts";
import type { MachineWork } from "./context.ts";
import type { FlowDeps } from "./deps.ts";
import { withOperation } from "./status.ts";
import { writeObject, writeStatus } from "./write.ts";

/**
 * MCM's create flow: render the user data (bootstrap token, machine name), ask the driver for an
 * existing VM first (adopt it), create one only when there is none, record providerID and the node
 * label, initialise, and move the machine to Pending. Failures go to status and an Event.
 */
export async function createFlow(work: MachineWork, deps: FlowDeps): Promise<Result> {
  const { machine, driver, machineClass, signal } = work;
  const name = machine.metadata?.name ?? "";
  try {
    const { secret, tokenId } = await renderedSecret(work, deps);
    const req = { machine, machineClass, secret, signal };
    let vm = await adopt(work, secret);
    if (!vm) {
      vm = await driver.createMachine(req);
      await deps.events.record(machine, "Normal", "Created", "Create", `VM ${vm.providerID} created`);
    }
    if (staleNode(vm, name, deps)) {
      await driver.deleteMachine({
        machine: { ...machine, spec: { ...machine.spec, providerID: vm.providerID } },
        machineClass,
        secret,
        signal,
      });
      return await createFailed(
        work,
        deps,
        new MachineError("Internal", `VM using old node obj ${vm.nodeName}; deleted the VM`),
        true,
      );
    }
    const lastKnownState = (await initialize(work, secret)) ?? vm.lastKnownState;
    const updated = await recordVm(machine, vm, tokenId, deps);
    const status = withOperation(
      updated,
      {
        phase: deps.target ? "Pending" : "Available",
        type: "Create",
        state: deps.target ? "Processing" : "Successful",
        description: deps.target
          ? "Creating machine on cloud provider"
          : `Machine ${name} created; no target cluster to join`,
        timeoutActive: deps.target !== undefined,
        conditions: [{ type: "VMCreated", status: "True", reason: "Created" }],
      },
      deps.clock.now(),
    );
    await writeStatus(
      deps.client,
      updated,
      lastKnownState === undefined ? status : { ...status, lastKnownState },
    );
    return { requeueAfter: deps.config.pendingRecheckMs };
  } catch (err) {
    return createFailed(work, deps, MachineError.from(err), false);
  }
}

/** secretRef + credentialsSecretRef data with the user data rendered for this machine, and its token id. */
async function renderedSecret(
  work: MachineWork,
  deps: FlowDeps,
): Promise<{ secret: SecretData; tokenId: string | undefined }> {
  const name = work.machine.metadata?.name ?? "";
  const userData = work.secret[SecretKeys.userData];
  if (!userData) {
    throw new MachineError(
      "InvalidArgument",
      `userData field not found in the Secret of MachineClass ${work.machineClass.metadata?.name}`,
    );
  }
  const token = deps.target
    ? await ensureBootstrapToken(
        deps.target,
        tokenOwnerOf(work.machine),
        creationTimeoutOf(work.machine, deps.config),
        deps.config.bootstrapTokenAuthExtraGroups,
        deps.clock.now(),
      )
    : "";
  return {
    secret: {
      ...work.secret,
      [SecretKeys.userData]: Buffer.from(substitutePlaceholders(userData.toString(), token, name)),
    },
    tokenId: token ? tokenIdOf(token) : undefined,
  };
}

/** The existing VM of this machine (adopted), or undefined when one must be created. */
async function adopt(work: MachineWork, secret: SecretData): Promise<CreateMachineResponse | undefined> {
  try {
    return await work.driver.getMachineStatus({
      machine: work.machine,
      machineClass: work.machineClass,
      secret,
      signal: work.signal,
    });
  } catch (err) {
    const e = MachineError.from(err);
    if (e.code === "NotFound" || e.code === "Unimplemented") {
      const providerID = work.machine.spec.providerID;
      return providerID
        ? { providerID, nodeName: work.machine.metadata?.labels?.[Labels.node] ?? "" }
        : undefined;
    }
    if (e.code === "Uninitialized") return undefined;
    throw e;
  }
}

/** Runs initializeMachine; its lastKnownState, if it returned one. */
async function initialize(work: MachineWork, secret: SecretData): Promise<string | undefined> {
  const { machine, machineClass, signal } = work;
  try {
    return (await work.driver.initializeMachine({ machine, machineClass, secret, signal })).lastKnownState;
  } catch (err) {
    if (MachineError.from(err).code !== "Unimplemented") throw err;
    return undefined;
  }
}

/** MCM's stale-node guard: a Node of that name that is not this machine's means a recycled name. */
function staleNode(vm: CreateMachineResponse, name: string, deps: FlowDeps): boolean {
  if (!deps.target || !vm.nodeName || vm.nodeName === name) return false;
  return deps.nodes?.store.get(vm.nodeName) !== undefined;
}

/** One write: node label, default priority, bootstrap token id, providerID. */
async function recordVm(
  machine: Machine,
  vm: CreateMachineResponse,
  tokenId: string | undefined,
  deps: FlowDeps,
): Promise<Machine> {
  if (deps.target && !vm.nodeName) throw new MachineError("Internal", "the driver returned no node name");
  if (!vm.providerID) throw new MachineError("Internal", "the driver returned no providerID");
  const meta = machine.metadata ?? {};
  const after: Machine = {
    ...machine,
    metadata: {
      ...meta,
      labels: { ...meta.labels, ...(vm.nodeName ? { [Labels.node]: vm.nodeName } : {}) },
      annotations: {
        [Annotations.machinePriority]: "3",
        ...meta.annotations,
        ...(tokenId ? { [Annotations.bootstrapTokenId]: tokenId } : {}),
      },
    },
    spec: { ...machine.spec, providerID: vm.providerID },
  };
  return writeObject(deps.client, machine, after);
}

/** Records a failed create: CrashLoopBackOff, or Failed once the creation timeout has passed. */
async function createFailed(
  work: MachineWork,
  deps: FlowDeps,
  err: MachineError,
  fatal: boolean,
): Promise<Result> {
  const { machine } = work;
  const now = deps.clock.now();
  const created = Date.parse(machine.metadata?.creationTimestamp ?? "") || now;
  const timedOut = fatal || now - created > creationTimeoutOf(machine, deps.config);
  await writeStatus(
    deps.client,
    machine,
    withOperation(
      machine,
      {
        phase: timedOut ? "Failed" : "CrashLoopBackOff",
        type: "Create",
        state: "Failed",
        description: `Cloud provider message - ${err.message}`,
        errorCode: err.code,
        timeoutActive: false,
        conditions: [{ type: "VMCreated", status: "False", reason: err.code }],
      },
      now,
    ),
  );
  await deps.events.record(machine, "Warning", "CreateFailed", "Create", `${err.code}: ${err.message}`);
  if (timedOut) return undefined;
  const c = deps.config;
  const after = {
    short: c.shortRetryMs,
    medium: c.mediumRetryMs,
    long: c.longRetryMs,
    resourceExhausted: c.resourceExhaustedRetryMs,
  }[retryClassOf(err.code, "create")];
  return { requeueAfter: after };
}
