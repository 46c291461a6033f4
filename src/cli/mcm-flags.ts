import { durationFlag, type FlagRule, type FlagSpec, type FlagValues, floatFlag, intFlag } from "./flags.ts";

/**
 * The flags of MCM v0.62.1's two processes that sprout accepts without acting on them, so that the
 * arguments Gardener renders start sprout unchanged. Names, kinds, defaults and MCM's help follow
 * `cmd/machine-controller-manager/app/options/options.go` (the MachineSet/MachineDeployment
 * process), `pkg/util/provider/app/options/options.go` (the provider's machine controller),
 * MCM's leader-election flags and component-base's and klog's log flags; a test reads those files
 * from the Go module cache, so this list cannot drift.
 */

const atLeast0 = { min: 0 } as const;

const inactive = (
  name: string,
  kind: FlagSpec["kind"],
  dflt: string,
  help: string,
  why: string,
  range?: FlagSpec["range"],
): FlagSpec => ({ name, kind, default: dflt, help, inactive: why, ...(range ? { range } : {}) });

/** Flags both MCM processes register and sprout does not act on. */
export const COMMON_INACTIVE_FLAGS: readonly FlagSpec[] = [
  inactive(
    "cloud-provider",
    "string",
    "",
    "the provider for cloud services",
    "the driver is chosen by each MachineClass's `provider`",
  ),
  inactive(
    "min-resync-period",
    "duration",
    "12h0m0s",
    "reflector resync period",
    "sprout's informers do not resync; every change arrives by watch",
    atLeast0,
  ),
  inactive(
    "profiling",
    "bool",
    "false",
    "profiling via host:port/debug/pprof/",
    "Node's own profiler (`node --inspect`, `--cpu-prof`) serves that purpose",
  ),
  inactive(
    "contention-profiling",
    "bool",
    "false",
    "lock contention profiling",
    "Node has no lock contention to profile",
  ),
  inactive(
    "kube-api-content-type",
    "string",
    "application/vnd.kubernetes.protobuf",
    "content type of requests to the apiserver",
    "sprout always speaks JSON",
  ),
  inactive(
    "controller-start-interval",
    "duration",
    "0s",
    "interval between starting controllers",
    "sprout starts its controllers together once caches are synced",
    atLeast0,
  ),
  inactive(
    "leader-elect-resource-lock",
    "string",
    "leases",
    "the kind of lock object",
    "sprout always uses a coordination.k8s.io Lease",
  ),
];

const active = (
  name: string,
  kind: FlagSpec["kind"],
  dflt: string,
  help: string,
  range?: FlagSpec["range"],
): FlagSpec => ({ name, kind, default: dflt, help, ...(range ? { range } : {}) });

/** The overshooting safety flags of MCM's MachineSet/MachineDeployment process (docs/machine-lifecycle.md#safety). */
export const MCM_SAFETY_FLAGS: readonly FlagSpec[] = [
  active(
    "safety-up",
    "int",
    "2",
    "machines a set may hold above its replicas (and its deployment's surge) before it is frozen",
    atLeast0,
  ),
  active(
    "safety-down",
    "int",
    "1",
    "how far below the freeze limit a frozen set must fall to be unfrozen",
    atLeast0,
  ),
  active(
    "machine-safety-overshooting-period",
    "duration",
    "1m0s",
    "how often sets are checked for overshooting; 0 turns the check off",
    atLeast0,
  ),
];

/** The safety flags of the provider's machine controller (docs/machine-lifecycle.md#safety). */
export const MC_SAFETY_FLAGS: readonly FlagSpec[] = [
  active(
    "machine-safety-apiserver-statuscheck-timeout",
    "duration",
    "30s",
    "how long the control or target apiserver may be unreachable before the machine controller freezes (no machine is marked Unknown or Failed meanwhile)",
    atLeast0,
  ),
  active(
    "machine-safety-apiserver-statuscheck-period",
    "duration",
    "1m0s",
    "how often both apiservers are probed; 0 turns the check off",
    atLeast0,
  ),
  active(
    "machine-safety-orphan-vms-period",
    "duration",
    "15m0s",
    "how often each MachineClass's VMs are listed and those without a Machine deleted; 0 turns it off",
    atLeast0,
  ),
];

/** Flags only the provider's machine controller registers. */
export const MC_INACTIVE_FLAGS: readonly FlagSpec[] = [
  inactive(
    "machine-inplace-update-timeout",
    "duration",
    "20m0s",
    "timeout of an in-place update",
    "sprout has no in-place updates",
    atLeast0,
  ),
  inactive(
    "machine-pv-detach-timeout",
    "duration",
    "2m0s",
    "wait for a PV to detach during a drain",
    "sprout's drain does not wait for volume detachment",
    atLeast0,
  ),
  inactive(
    "machine-pv-reattach-timeout",
    "duration",
    "1m30s",
    "wait for a PV to reattach elsewhere",
    "sprout's drain does not wait for volume reattachment",
    atLeast0,
  ),
  inactive(
    "machine-preserve-timeout",
    "duration",
    "96h0m0s",
    "how long a failed machine with the preserve annotation is kept",
    "sprout keeps a preserved machine until the annotation is removed",
    atLeast0,
  ),
];

const KLOG = "sprout writes structured JSON to stdout; --v sets its level";

/**
 * Log flags: component-base's `--v`, `--vmodule`, `--log-flush-frequency`, and klog's own, which
 * older MCM images registered and existing arguments may still carry.
 */
export const LOG_FLAGS: readonly FlagSpec[] = [
  {
    name: "v",
    shorthand: "v",
    kind: "int",
    default: "0",
    help: "klog verbosity, mapped to the log level: 0–2 info, 3–4 debug, 5 and more trace (--log-level wins when given)",
    range: { min: 0, max: 2_147_483_647 },
  },
  inactive("vmodule", "string", "", "per-file verbosity (pattern=N,...)", KLOG),
  inactive(
    "log-flush-frequency",
    "duration",
    "5s",
    "maximum time between log flushes",
    "sprout's log lines are written as they come",
    atLeast0,
  ),
  inactive("log-dir", "string", "", "write log files in this folder", KLOG),
  inactive("log-file", "string", "", "write logs to this file", KLOG),
  inactive("log-file-max-size", "int", "1800", "maximum size of a log file in MB", KLOG, atLeast0),
  inactive("logtostderr", "bool", "true", "log to standard error instead of files", KLOG),
  inactive("alsologtostderr", "bool", "false", "log to standard error as well as files", KLOG),
  inactive("add-dir-header", "bool", "false", "add the file's folder to log headers", KLOG),
  inactive("skip-headers", "bool", "false", "no header prefixes in log lines", KLOG),
  inactive("skip-log-headers", "bool", "false", "no headers when opening log files", KLOG),
  inactive("one-output", "bool", "false", "write logs only at their own severity", KLOG),
  inactive("stderrthreshold", "string", "2", "logs at or above this threshold go to stderr", KLOG),
  inactive("log-backtrace-at", "string", ":0", "emit a stack trace at file:N", KLOG),
];

/** pino's level for klog's verbosity: 0–2 info, 3–4 debug, 5 and more trace. */
export const logLevelOfVerbosity = (v: number): string => (v >= 5 ? "trace" : v >= 3 ? "debug" : "info");

/** The log level: --log-level when given, else from --v. */
export const logLevelOf = (v: FlagValues): string => v["log-level"] || logLevelOfVerbosity(intFlag(v, "v"));

const given = (v: FlagValues, name: string): string => `--${name}=${v[name] ?? ""}`;

/** Rules between flags both processes share. */
export const COMMON_RULES: readonly FlagRule[] = [
  (v) =>
    intFlag(v, "kube-api-burst") < floatFlag(v, "kube-api-qps")
      ? `${given(v, "kube-api-burst")} must be at least ${given(v, "kube-api-qps")}`
      : undefined,
  (v) => {
    if (v["leader-elect"] !== "true") return undefined;
    const lease = durationFlag(v, "leader-elect-lease-duration");
    const renew = durationFlag(v, "leader-elect-renew-deadline");
    const retry = durationFlag(v, "leader-elect-retry-period");
    if (lease <= renew) {
      return `${given(v, "leader-elect-lease-duration")} must be longer than ${given(v, "leader-elect-renew-deadline")}`;
    }
    // client-go's leader election: the renew deadline must exceed the retry period with its jitter (1.2).
    if (renew <= retry * 1.2) {
      return `${given(v, "leader-elect-renew-deadline")} must be longer than 1.2 × ${given(v, "leader-elect-retry-period")}`;
    }
    return undefined;
  },
  (v) =>
    v["contention-profiling"] === "true" && v.profiling !== "true"
      ? "--contention-profiling needs --profiling"
      : undefined,
  (v) =>
    /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(v["kube-api-content-type"] ?? "")
      ? undefined
      : `${given(v, "kube-api-content-type")}: must be a media type such as application/json`,
];

/** Rules of the machine controller's flags (MCM's Validate). */
export const MC_RULES: readonly FlagRule[] = [
  (v) =>
    durationFlag(v, "machine-safety-apiserver-statuscheck-period") <
    durationFlag(v, "machine-safety-apiserver-statuscheck-timeout")
      ? `${given(v, "machine-safety-apiserver-statuscheck-period")} must not be shorter than ${given(v, "machine-safety-apiserver-statuscheck-timeout")}`
      : undefined,
];
