import type { DriverLogger } from "./context.ts";
import { type CallOptions, DRIVER_OPERATIONS, type Driver, type SecretData } from "./driver.ts";
import type { ErrorCode } from "./codes.ts";
import { MachineError } from "./errors.ts";
import type { DriverMetrics } from "./metrics.ts";

/** How long one driver call may take unless --driver-call-timeout says otherwise. */
export const DEFAULT_DRIVER_CALL_TIMEOUT_MS = 5 * 60_000;

/** Outcomes of a call that are part of the normal flow, logged at debug level only. */
const EXPECTED: ReadonlySet<ErrorCode> = new Set(["NotFound", "Unimplemented", "Uninitialized"]);

const REDACTED = "[redacted]";
/** Shorter Secret values are not searched for in messages (they would match ordinary words). */
const MIN_SECRET_LENGTH = 6;

export interface DecorateOptions {
  /** The provider label of the metrics and logs, e.g. "aws". */
  readonly provider: string;
  /** The deadline of every call; it aborts the signal the driver gets and frees the caller. */
  readonly timeoutMs: number;
  readonly logger: DriverLogger;
  readonly metrics?: DriverMetrics;
}

type Request = CallOptions & {
  readonly secret?: SecretData;
  readonly machine?: { metadata?: { name?: string; namespace?: string }; spec?: { providerID?: string } };
  readonly machineClass?: { metadata?: { name?: string } };
};
type Call = (req: Request) => Promise<unknown>;

/**
 * Wraps a driver the way the registry hands it out: every call gets a deadline (an AbortSignal that
 * also carries the caller's), is measured under MCM's driver metrics, and is logged without Secret
 * data; an error leaves as a MachineError whose message holds no Secret value. A driver that ignores
 * its signal still frees the caller at the deadline, with DeadlineExceeded.
 */
export function decorate(inner: Driver, opts: DecorateOptions): Driver {
  const log = opts.logger.child({ provider: opts.provider });
  const wrap = (method: keyof Driver): Call => {
    const operation = DRIVER_OPERATIONS[method];
    const fn = (inner as unknown as Record<string, Call | undefined>)[method];
    // A plugin without a call (e.g. no getVolumeIDs) answers Unimplemented instead of crashing.
    const target: Call =
      typeof fn === "function"
        ? fn.bind(inner)
        : () => Promise.reject(new MachineError("Unimplemented", `the driver has no ${method}`));
    return async (req) => {
      const deadline = AbortSignal.timeout(opts.timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
      const labels = { provider: opts.provider, operation };
      const fields = describe(operation, req);
      const endTimer = opts.metrics?.driverDuration.startTimer(labels);
      const started = performance.now();
      try {
        const out = await untilAborted(target({ ...req, signal }), signal);
        log.debug({ ...fields, durationMs: Math.round(performance.now() - started) }, "driver call");
        return out;
      } catch (err) {
        const e = redact(outcome(err, operation, deadline, req.signal, opts.timeoutMs), req.secret);
        opts.metrics?.driverFailed.inc({ ...labels, error_code: e.code });
        const line = {
          ...fields,
          code: e.code,
          error: e.message,
          durationMs: Math.round(performance.now() - started),
        };
        if (EXPECTED.has(e.code)) log.debug(line, "driver call failed");
        else log.warn(line, "driver call failed");
        throw e;
      } finally {
        endTimer?.();
      }
    };
  };
  const out: Record<keyof Driver, Call> = {
    createMachine: wrap("createMachine"),
    initializeMachine: wrap("initializeMachine"),
    deleteMachine: wrap("deleteMachine"),
    getMachineStatus: wrap("getMachineStatus"),
    listMachines: wrap("listMachines"),
    getVolumeIDs: wrap("getVolumeIDs"),
  };
  return out as unknown as Driver;
}

/** Settles with the call, or rejects as soon as the signal aborts (the call is left to finish alone). */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    call.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      call.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    call.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

const abortReason = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error("aborted");

/** The MachineError a failed call ends with: DeadlineExceeded or Canceled when its signal aborted. */
function outcome(
  err: unknown,
  operation: string,
  deadline: AbortSignal,
  caller: AbortSignal | undefined,
  timeoutMs: number,
): MachineError {
  if (deadline.aborted) {
    return new MachineError(
      "DeadlineExceeded",
      `${operation} did not finish within ${timeoutMs / 1000} s (--driver-call-timeout)`,
      { cause: err },
    );
  }
  if (caller?.aborted)
    return new MachineError("Canceled", `${operation} canceled: the caller stopped`, { cause: err });
  return MachineError.from(err);
}

/** The error with every Secret value in its message replaced. */
export function redact(err: MachineError, secret: SecretData | undefined): MachineError {
  let message = err.message;
  for (const value of Object.values(secret ?? {})) {
    const text = value.toString();
    if (text.length >= MIN_SECRET_LENGTH && message.includes(text))
      message = message.replaceAll(text, REDACTED);
  }
  // The cause is dropped: it carries the unredacted text.
  return message === err.message ? err : new MachineError(err.code, message);
}

/** What a log line says about a request: never its Secret or user data. */
function describe(operation: string, req: Request): Record<string, unknown> {
  const meta = req.machine?.metadata;
  return {
    operation,
    ...(meta?.name ? { machine: `${meta.namespace ?? ""}/${meta.name}` } : {}),
    ...(req.machine?.spec?.providerID ? { providerID: req.machine.spec.providerID } : {}),
    ...(req.machineClass?.metadata?.name ? { machineClass: req.machineClass.metadata.name } : {}),
  };
}
