import { API_VERSION, Finalizers, Labels, type MachinePhase } from "../../src/api/constants.ts";
import type { Machine, MachineStatus } from "../../src/api/v1alpha1/machine.ts";
import type { MachineClass } from "../../src/api/v1alpha1/machineclass.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../src/api/v1alpha1/machineset.ts";
import type { KubeObject } from "../../src/runtime/client/client.ts";

/**
 * Objects for tests with sensible defaults: namespace "default", class "class" with Secret
 * "class-secret" (userData), provider "fake". Every builder takes the few fields tests vary as
 * options and `with` for anything else, deep-merged over the result (null removes a field).
 */

export const NAMESPACE = "default";
export const CLASS = "class";
export const SECRET = "class-secret";
export const PROVIDER = "fake";
/** The time builders stamp objects with unless told otherwise (FakeClock's default start). */
export const T0 = Date.UTC(2026, 0, 1);

export const stamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

type Deep<T> = { [K in keyof T]?: T[K] extends object ? Deep<T[K]> | null : T[K] | null };

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (typeof over !== "object" || over === null || Array.isArray(over)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) Reflect.deleteProperty(out, k);
    else if (v !== undefined) out[k] = merge(out[k], v);
  }
  return out as T;
}

interface Common<T> {
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly with?: Deep<T>;
}

function meta(name: string, o: Common<unknown>, namespaced = true): KubeObject["metadata"] & object {
  return {
    name,
    ...(namespaced ? { namespace: o.namespace ?? NAMESPACE } : {}),
    creationTimestamp: stamp(T0),
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.annotations ? { annotations: o.annotations } : {}),
  };
}

export type SecretObject = KubeObject & { type?: string; data?: Record<string, string> };

/** A Secret; `data` is given in plain text and stored base64-encoded. */
export function secret(
  name = SECRET,
  o: Common<SecretObject> & { data?: Record<string, string> } = {},
): SecretObject {
  const data = o.data ?? { userData: "#cloud-config\n# <<MACHINE_NAME>> joins with <<BOOTSTRAP_TOKEN>>\n" };
  const encoded = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
  );
  return merge(
    { apiVersion: "v1", kind: "Secret", metadata: meta(name, o), type: "Opaque", data: encoded },
    o.with,
  );
}

export type ClassObject = MachineClass & KubeObject;

export function machineClass(
  name = CLASS,
  o: Common<ClassObject> & {
    provider?: string;
    secretName?: string;
    providerSpec?: Record<string, unknown>;
  } = {},
): ClassObject {
  return merge(
    {
      apiVersion: API_VERSION,
      kind: "MachineClass",
      metadata: meta(name, o),
      provider: o.provider ?? PROVIDER,
      providerSpec: o.providerSpec ?? { size: "small" },
      secretRef: { name: o.secretName ?? SECRET, namespace: o.namespace ?? NAMESPACE },
    },
    o.with,
  );
}

export type MachineObject = Machine & KubeObject;

export interface MachineOptions extends Common<MachineObject> {
  readonly className?: string;
  readonly providerID?: string;
  /** The node label (the Node's name). */
  readonly node?: string;
  readonly phase?: MachinePhase;
  /** When the phase began; default T0. */
  readonly phaseSince?: number;
  /** Adds the controller's finalizer (default true). */
  readonly finalizer?: boolean;
  readonly deletionTimestamp?: number;
  readonly status?: MachineStatus;
}

export function machine(name: string, o: MachineOptions = {}): MachineObject {
  const labels = { ...o.labels, ...(o.node ? { [Labels.node]: o.node } : {}) };
  const status: MachineStatus = {
    ...(o.phase
      ? { currentStatus: { phase: o.phase, lastUpdateTime: stamp(o.phaseSince ?? T0), timeoutActive: false } }
      : {}),
    ...o.status,
  };
  const m: MachineObject = {
    apiVersion: API_VERSION,
    kind: "Machine",
    metadata: {
      ...meta(name, { ...o, labels }),
      ...(o.finalizer === false ? {} : { finalizers: [Finalizers.machineControllerManager] }),
      ...(o.deletionTimestamp === undefined ? {} : { deletionTimestamp: stamp(o.deletionTimestamp) }),
    },
    spec: {
      class: { kind: "MachineClass", name: o.className ?? CLASS },
      ...(o.providerID ? { providerID: o.providerID } : {}),
    },
    ...(Object.keys(status).length > 0 ? { status } : {}),
  };
  if (Object.keys(labels).length === 0) delete m.metadata?.labels;
  return merge(m, o.with);
}

interface TemplateOptions {
  readonly className?: string;
  readonly replicas?: number;
  /** Labels of the selector and the template. Default { name: <name> }. */
  readonly selector?: Record<string, string>;
}

function template(name: string, o: TemplateOptions): MachineSet["spec"] & object {
  const selector = o.selector ?? { name };
  return {
    replicas: o.replicas ?? 1,
    selector: { matchLabels: selector },
    template: {
      metadata: { labels: selector },
      spec: { class: { kind: "MachineClass", name: o.className ?? CLASS } },
    },
  };
}

export type MachineSetObject = MachineSet & KubeObject;

export function machineSet(
  name: string,
  o: Common<MachineSetObject> & TemplateOptions = {},
): MachineSetObject {
  return merge(
    {
      apiVersion: API_VERSION,
      kind: "MachineSet",
      metadata: meta(name, o),
      spec: template(name, o),
    },
    o.with,
  );
}

export type DeploymentObject = MachineDeployment & KubeObject;

export function machineDeployment(
  name: string,
  o: Common<DeploymentObject> &
    TemplateOptions & { maxSurge?: number | string; maxUnavailable?: number | string } = {},
): DeploymentObject {
  const spec = {
    ...template(name, o),
    strategy: {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: o.maxSurge ?? 1, maxUnavailable: o.maxUnavailable ?? 0 },
    },
  };
  return merge(
    { apiVersion: API_VERSION, kind: "MachineDeployment", metadata: meta(name, o), spec } as DeploymentObject,
    o.with,
  );
}

export type NodeObject = KubeObject & {
  spec?: {
    providerID?: string;
    unschedulable?: boolean;
    taints?: { key: string; effect: string; value?: string }[];
  };
  status?: {
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
  };
};

export interface NodeOptions extends Common<NodeObject> {
  readonly providerID?: string;
  /** Status of the Ready condition; default "True". */
  readonly ready?: "True" | "False" | "Unknown";
  /** Further conditions, e.g. { DiskPressure: "True" }. */
  readonly conditions?: Record<string, string>;
  /** When the conditions last changed; default T0. */
  readonly since?: number;
}

export function node(name: string, o: NodeOptions = {}): NodeObject {
  const since = stamp(o.since ?? T0);
  const conditions = Object.entries({ Ready: o.ready ?? "True", ...o.conditions }).map(([type, status]) => ({
    type,
    status,
    reason: type === "Ready" && status === "True" ? "KubeletReady" : "Test",
    lastTransitionTime: since,
  }));
  return merge(
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: meta(name, o, false),
      spec: o.providerID ? { providerID: o.providerID } : {},
      status: { conditions },
    },
    o.with,
  );
}
