/**
 * What a plugin gets from the core besides its settings: a logger, the cloud API metrics and a
 * clock. The types are structural, so the runtime's pino logger and clock fit them without the
 * driver layer depending on the runtime.
 */

type LogFn = {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
};

/** A structured logger (pino's shape). Never give it Secret contents or user data. */
export interface DriverLogger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  child(bindings: Record<string, unknown>): DriverLogger;
}

/** Time, injectable so tests can control it. */
export interface DriverClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The cloud API metrics a plugin reports, under MCM's names: one call to its cloud's `service`
 * (e.g. "ec2") counts in mcm_cloud_api_requests_total, a failure also in
 * mcm_cloud_api_requests_failed_total, and its duration goes to
 * mcm_cloud_api_api_request_duration_seconds (labels provider and service).
 */
export interface CloudApiMetrics {
  /** Runs one cloud API request and records it; resolves or rejects as `request` does. */
  request<T>(service: string, request: () => Promise<T>): Promise<T>;
}

export interface PluginContext {
  /** Environment for endpoints and settings (process.env unless overridden, e.g. in tests). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Bound to the plugin's name; debug for each cloud request at most. */
  readonly logger: DriverLogger;
  readonly metrics: CloudApiMetrics;
  readonly clock: DriverClock;
}

const noop = (): void => undefined;

/** A logger that writes nothing. */
export const silentDriverLogger: DriverLogger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentDriverLogger,
};

/** Metrics that record nothing. */
export const noMetrics: CloudApiMetrics = { request: (_service, request) => request() };

export const systemClock: DriverClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};
