import type { KubeConfig } from "@kubernetes/client-node";
import type { DestinationStream } from "pino";
import { collectDefaultMetrics } from "prom-client";
import {
  defaultMachineControllerConfig,
  type MachineControllerConfig,
} from "../controllers/machine/config.ts";
import { MachineController } from "../controllers/machine/controller.ts";
import { apiServerCheck, orphanCollector } from "../controllers/index.ts";
import { DEFAULT_SAFETY_CONFIG, type SafetyConfig } from "../controllers/safety/config.ts";
import { MachineClassController } from "../controllers/machineclass/controller.ts";
import { DriverRegistry } from "../driver/registry.ts";
import { KubeClient } from "../runtime/client/client.ts";
import { newLogger } from "../runtime/log.ts";
import { Manager } from "../runtime/manager/manager.ts";
import {
  boolFlag,
  durationFlag,
  type FlagRule,
  type FlagSpec,
  type FlagValues,
  floatFlag,
  intFlag,
  listFlag,
  type ParsedFlags,
  parseFlags,
} from "./flags.ts";
import { loadKubeConfig } from "./kubeconfig.ts";
import {
  COMMON_INACTIVE_FLAGS,
  COMMON_RULES,
  LOG_FLAGS,
  logLevelOf,
  MC_INACTIVE_FLAGS,
  MC_RULES,
  MC_SAFETY_FLAGS,
} from "./mcm-flags.ts";

const defaults = defaultMachineControllerConfig("default");
const minutes = (ms: number): string => `${ms / 60_000}m`;

/** The flags sprout acts on in both commands: MCM's machine controller's names and defaults. */
export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  {
    name: "control-kubeconfig",
    kind: "string",
    default: "",
    help: "kubeconfig of the cluster holding the Machine objects; $KUBECONFIG or ~/.kube/config when empty",
  },
  {
    name: "target-kubeconfig",
    kind: "string",
    default: "",
    help: "kubeconfig of the cluster the machines join; the control cluster when empty; `none` runs without one (machines go to Available)",
  },
  {
    name: "namespace",
    kind: "string",
    default: "default",
    help: "namespace of the control cluster whose machines this instance manages",
  },
  {
    name: "machine-creation-timeout",
    kind: "duration",
    default: minutes(defaults.creationTimeoutMs),
    help: "how long a machine may take to join before it is Failed",
    range: { min: 0 },
  },
  {
    name: "machine-health-timeout",
    kind: "duration",
    default: minutes(defaults.healthTimeoutMs),
    help: "how long a machine may stay Unknown before it is Failed",
    range: { min: 0 },
  },
  {
    name: "machine-drain-timeout",
    kind: "duration",
    default: "2h",
    help: "how long a drain may take before it is forced",
    range: { min: 0 },
  },
  {
    name: "machine-max-evict-retries",
    kind: "int",
    default: String(defaults.maxEvictRetries),
    help: "eviction retries per pod before it is deleted",
    range: { min: 0 },
  },
  {
    name: "node-conditions",
    kind: "list",
    default: defaults.nodeConditions.join(","),
    help: "node condition types that make a machine unhealthy when True or Unknown",
  },
  {
    name: "bootstrap-token-auth-extra-groups",
    kind: "string",
    default: "",
    help: "extra groups of the machines' bootstrap tokens",
  },
  {
    name: "resource-exhausted-retry",
    kind: "duration",
    default: minutes(defaults.resourceExhaustedRetryMs),
    help: "wait before retrying a create that failed with ResourceExhausted",
    range: { min: 0 },
  },
  {
    name: "concurrent-syncs",
    kind: "int",
    default: String(defaults.concurrentSyncs),
    help: "workers per queue (creation/health and deletion each)",
    range: { min: 1 },
  },
  {
    name: "kube-api-qps",
    kind: "float",
    default: "20",
    help: "client-side request rate to each cluster",
    range: { above: 0 },
  },
  {
    name: "kube-api-burst",
    kind: "int",
    default: "30",
    help: "requests allowed in a burst above the rate",
    range: { min: 1 },
  },
  {
    name: "address",
    kind: "ip",
    default: "0.0.0.0",
    help: "address of the /healthz, /readyz and /metrics server",
  },
  {
    name: "port",
    kind: "int",
    default: "10259",
    help: "port of that server; 0 picks a free one",
    range: { min: 0, max: 65535 },
  },
  {
    name: "leader-elect",
    kind: "bool",
    default: "true",
    help: "take the Lease `machine-controller` in --namespace before reconciling",
  },
  {
    name: "leader-elect-lease-duration",
    kind: "duration",
    default: "15s",
    help: "how long a lease holds without renewal",
    range: { above: 0 },
  },
  {
    name: "leader-elect-renew-deadline",
    kind: "duration",
    default: "10s",
    help: "how long the leader tries to renew before giving up",
    range: { above: 0 },
  },
  {
    name: "leader-elect-retry-period",
    kind: "duration",
    default: "2s",
    help: "how often to try to acquire or renew",
    range: { above: 0 },
  },
  {
    name: "log-level",
    kind: "string",
    default: "",
    help: "trace, debug, info, warn or error; from --v when empty",
  },
  {
    name: "kube-api-request-timeout",
    kind: "duration",
    default: "60s",
    help: "deadline of each apiserver request (kube-apiserver's own --request-timeout); a request past it is closed and retried with backoff; watches end after 5–10 min or 60 s of silence instead",
    range: { above: 0 },
  },
  {
    name: "driver-call-timeout",
    kind: "duration",
    default: "5m",
    help: "deadline of each driver call (create, delete, status, list, ...); a call past it fails with DeadlineExceeded and is retried after the short retry period",
    range: { above: 0 },
  },
];

/** Flags of `sprout machine-controller`: every flag of MCM's provider machine controller. */
export const MACHINE_CONTROLLER_FLAGS: readonly FlagSpec[] = [
  ...CONTROLLER_FLAGS,
  ...MC_SAFETY_FLAGS,
  ...COMMON_INACTIVE_FLAGS,
  ...MC_INACTIVE_FLAGS,
  ...LOG_FLAGS,
];

export const MACHINE_CONTROLLER_RULES: readonly FlagRule[] = [...COMMON_RULES, ...MC_RULES];

/** The driver registry the flags describe: the manager's logger and metrics, the call deadline. */
export function driverRegistryFromFlags(
  v: FlagValues,
  manager: Manager,
  env: Readonly<Record<string, string | undefined>> = process.env,
): DriverRegistry {
  return new DriverRegistry({
    context: { env, logger: manager.logger },
    metrics: manager.metrics.registry,
    callTimeoutMs: durationFlag(v, "driver-call-timeout"),
  });
}

export function configFromFlags(v: FlagValues): MachineControllerConfig {
  return {
    ...defaultMachineControllerConfig(v.namespace ?? "default"),
    creationTimeoutMs: durationFlag(v, "machine-creation-timeout"),
    healthTimeoutMs: durationFlag(v, "machine-health-timeout"),
    drainTimeoutMs: durationFlag(v, "machine-drain-timeout"),
    maxEvictRetries: intFlag(v, "machine-max-evict-retries"),
    nodeConditions: listFlag(v, "node-conditions"),
    bootstrapTokenAuthExtraGroups: v["bootstrap-token-auth-extra-groups"] ?? "",
    // As MCM: 0 means the long retry period.
    resourceExhaustedRetryMs:
      durationFlag(v, "resource-exhausted-retry") || defaults.resourceExhaustedRetryMs,
    concurrentSyncs: intFlag(v, "concurrent-syncs"),
  };
}

/** The safety settings among the flags (a process without one of them keeps MCM's default). */
export function safetyFromFlags(v: FlagValues): SafetyConfig {
  const d = DEFAULT_SAFETY_CONFIG;
  const ms = (name: string, dflt: number): number => (v[name] === undefined ? dflt : durationFlag(v, name));
  const n = (name: string, dflt: number): number => (v[name] === undefined ? dflt : intFlag(v, name));
  return {
    ...d,
    orphanPeriodMs: ms("machine-safety-orphan-vms-period", d.orphanPeriodMs),
    safetyUp: n("safety-up", d.safetyUp),
    safetyDown: n("safety-down", d.safetyDown),
    overshootPeriodMs: ms("machine-safety-overshooting-period", d.overshootPeriodMs),
    statusCheckTimeoutMs: ms("machine-safety-apiserver-statuscheck-timeout", d.statusCheckTimeoutMs),
    statusCheckPeriodMs: ms("machine-safety-apiserver-statuscheck-period", d.statusCheckPeriodMs),
  };
}

/** The clusters, logger and manager the flags describe (shared by `machine-controller` and `start`). */
export function managerFromFlags(
  flags: ParsedFlags,
  opts: {
    leaseName: string;
    control?: KubeConfig;
    target?: KubeClient | "none";
    /** Where logs go instead of stdout. */
    logTo?: DestinationStream;
    leaderElection?: boolean;
  },
): { manager: Manager; target: KubeClient | undefined; config: MachineControllerConfig } {
  const v = flags.values;
  const config = configFromFlags(v);
  const logger = newLogger({ level: logLevelOf(v) }, opts.logTo);
  // As MCM's FLAG lines at --v=2 and more: every flag's value in effect (paths and numbers only).
  logger.debug({ flags: v }, "flags in effect");
  for (const warning of flags.warnings) logger.warn(warning);
  const client = {
    qps: floatFlag(v, "kube-api-qps"),
    burst: intFlag(v, "kube-api-burst"),
    requestTimeoutMs: durationFlag(v, "kube-api-request-timeout"),
  };
  const control = opts.control ?? loadKubeConfig("control-kubeconfig", v["control-kubeconfig"] ?? "");
  const targetPath = v["target-kubeconfig"] ?? "";
  const manager = new Manager({
    kubeConfig: control,
    client,
    logger,
    eventSource: opts.leaseName,
    http: { host: v.address ?? "0.0.0.0", port: intFlag(v, "port") },
    ...((opts.leaderElection ?? boolFlag(v, "leader-elect"))
      ? {
          leaderElection: {
            name: opts.leaseName,
            namespace: config.namespace,
            leaseDurationMs: durationFlag(v, "leader-elect-lease-duration"),
            renewDeadlineMs: durationFlag(v, "leader-elect-renew-deadline"),
            retryPeriodMs: durationFlag(v, "leader-elect-retry-period"),
          },
        }
      : {}),
  });
  const metrics = manager.metrics;
  // The process's own metrics (process_*, nodejs_*): one process, one manager here.
  collectDefaultMetrics({ register: metrics.registry });
  const target =
    opts.target === "none" || targetPath === "none"
      ? undefined
      : (opts.target ??
        new KubeClient(targetPath ? loadKubeConfig("target-kubeconfig", targetPath) : control, {
          ...client,
          metrics,
        }));
  return { manager, target, config };
}

/** `sprout machine-controller`: runs the machine controller until SIGTERM/SIGINT. */
export async function runMachineController(args: string[]): Promise<number> {
  const flags = parseFlags(MACHINE_CONTROLLER_FLAGS, args, MACHINE_CONTROLLER_RULES);
  const { manager, target, config } = managerFromFlags(flags, { leaseName: "machine-controller" });
  const registry = driverRegistryFromFlags(flags.values, manager);
  const machines = new MachineController({ manager, target, registry, config });
  const safety = safetyFromFlags(flags.values);
  orphanCollector(manager, config.namespace, registry, machines, safety);
  apiServerCheck(manager, target, machines, config.namespace, safety);
  new MachineClassController({ manager, namespace: config.namespace });
  manager.stopOnSignals();
  await manager.start();
  manager.logger.info(
    { namespace: config.namespace, port: manager.httpPort, target: target ? "cluster" : "none" },
    "machine controller running",
  );
  return new Promise<number>(() => undefined);
}
