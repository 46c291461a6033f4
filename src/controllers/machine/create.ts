import { Annotations, Labels, SecretKeys } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { CreateMachineResponse, SecretData } from "../../driver/driver.ts";
import { retryClassOf } from "../../driver/codes.ts";
import { MachineError } from "../../driver/errors.ts";
import { substitutePlaceholders } from "../../bootstrap/placeholders.ts";
import { ensureBootstrapToken, tokenIdOf, tokenOwnerOf } from "./bootstrap-token.ts";
import { creationTimeoutOf } from "./config.ts";
import type { MachineWork } from "./context.ts";
import type { FlowDeps, FlowOutcome } from "./deps.ts";
import { withOperation } from "./status.ts";

/** A driver call whose every failure is a MachineError (apiserver errors never pass through one). */
const driverCall = <T>(call: Promise<T>): Promise<T> =>
  call.catch((err: unknown) => {
    throw MachineError.from(err);
  });

/**
 * MCM's create flow: render the user data (bootstrap token, machine name), ask the driver for an
 * existing VM first (adopt it), create one only when there is none, initialise, then record
 * providerID, the node label and phase Pending in the returned draft (written by the caller).
 * A driver's failure (or a class that cannot work) goes to status and an Event; an apiserver error
 * is thrown, for the runtime's backoff.
 */
export async function createFlow(work: MachineWork, deps: FlowDeps): Promise<FlowOutcome> {
  const { machine, driver, machineClass, signal } = work;
  const name = machine.metadata?.name ?? "";
  try {
    const { secret, tokenId } = await renderedSecret(work, deps);
    const req = { machine, machineClass, secret, signal };
    let vm = await adopt(work, secret);
    if (!vm) {
      vm = await driverCall(driver.createMachine(req));
      await deps.events.record(machine, "Normal", "Created", "Create", `VM ${vm.providerID} created`);
    }
    if (staleNode(vm, machine, deps)) {
      const spec = { ...machine.spec, providerID: vm.providerID };
      const stale = { machine: { ...machine, spec }, machineClass, secret, signal };
      await driverCall(driver.deleteMachine(stale));
      const err = new MachineError("Internal", `VM using old node obj ${vm.nodeName}; deleted the VM`);
      return await createFailed(work, deps, err, true);
    }
    const lastKnownState = (await initialize(work, secret)) ?? vm.lastKnownState;
    const recorded = withVm(machine, vm, tokenId, deps);
    const update = {
      phase: deps.target ? "Pending" : "Available",
      type: "Create",
      state: deps.target ? "Processing" : "Successful",
      description: deps.target
        ? "Creating machine on cloud provider"
        : `Machine ${name} created; no target cluster to join`,
      timeoutActive: deps.target !== undefined,
      conditions: [{ type: "VMCreated", status: "True", reason: "Created" }],
    } as const;
    const status = withOperation(recorded, update, deps.clock.now());
    const draft = {
      ...recorded,
      status: lastKnownState === undefined ? status : { ...status, lastKnownState },
    };
    return { draft, requeueAfter: deps.config.pendingRecheckMs };
  } catch (err) {
    if (!(err instanceof MachineError)) throw err;
    return createFailed(work, deps, err, false);
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
    return await driverCall(
      work.driver.getMachineStatus({
        machine: work.machine,
        machineClass: work.machineClass,
        secret,
        signal: work.signal,
      }),
    );
  } catch (err) {
    if (!(err instanceof MachineError)) throw err;
    const e = err;
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
    const out = await driverCall(work.driver.initializeMachine({ machine, machineClass, secret, signal }));
    return out.lastKnownState;
  } catch (err) {
    if (!(err instanceof MachineError) || err.code !== "Unimplemented") throw err;
    return undefined;
  }
}

/**
 * MCM's stale-node guard: a Node of the VM's node name that is not this machine's means a recycled
 * name. A Node registered with this VM's providerID is this machine's own (it joined before the
 * machine's status said so, e.g. a create reconciled again from a cache that lagged behind), and so
 * is one without a providerID that was registered after the machine was made.
 */
function staleNode(vm: CreateMachineResponse, machine: Machine, deps: FlowDeps): boolean {
  const name = machine.metadata?.name ?? "";
  if (!deps.target || !vm.nodeName || vm.nodeName === name) return false;
  const node = deps.nodes?.store.get(vm.nodeName);
  if (!node) return false;
  const nodeProviderID = node.spec?.providerID;
  if (nodeProviderID) return nodeProviderID !== vm.providerID;
  const nodeCreated = Date.parse(node.metadata?.creationTimestamp ?? "");
  const machineCreated = Date.parse(machine.metadata?.creationTimestamp ?? "");
  return !(nodeCreated >= machineCreated);
}

/** The machine with its VM recorded: node label, default priority, bootstrap token id, providerID. */
function withVm(
  machine: Machine,
  vm: CreateMachineResponse,
  tokenId: string | undefined,
  deps: FlowDeps,
): Machine {
  if (deps.target && !vm.nodeName) throw new MachineError("Internal", "the driver returned no node name");
  if (!vm.providerID) throw new MachineError("Internal", "the driver returned no providerID");
  const meta = machine.metadata ?? {};
  return {
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
}

/** A failed create: CrashLoopBackOff, or Failed once the creation timeout has passed. */
async function createFailed(
  work: MachineWork,
  deps: FlowDeps,
  err: MachineError,
  fatal: boolean,
): Promise<FlowOutcome> {
  const { machine } = work;
  const now = deps.clock.now();
  const created = Date.parse(machine.metadata?.creationTimestamp ?? "") || now;
  const timedOut = fatal || now - created > creationTimeoutOf(machine, deps.config);
  const status = withOperation(
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
  );
  await deps.events.record(machine, "Warning", "CreateFailed", "Create", `${err.code}: ${err.message}`);
  const draft = { ...machine, status };
  if (timedOut) return { draft };
  const c = deps.config;
  const after = {
    short: c.shortRetryMs,
    medium: c.mediumRetryMs,
    long: c.longRetryMs,
    resourceExhausted: c.resourceExhaustedRetryMs,
  }[retryClassOf(err.code, "create")];
  return { draft, requeueAfter: after };
}
