import type { CloudError, CreateVmInput, Dependent, Faults, Vm } from "./types.ts";

/** A non-2xx answer of the virtual cloud (status 0: no answer at all). */
export class CloudCallError extends Error {
  readonly status: number;
  readonly code: CloudError["code"] | "Unreachable";

  constructor(status: number, code: CloudError["code"] | "Unreachable", message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface CloudClientOptions {
  /** Aborts every request of this client (a driver call's deadline). */
  readonly signal?: AbortSignal | undefined;
  /** Counts each request (the driver's cloud API metrics). */
  readonly metrics?: { request<T>(service: string, request: () => Promise<T>): Promise<T> };
  /** VMs per page of a list. Default 500. */
  readonly pageSize?: number;
}

/** The metrics service label of the virtual cloud's requests. */
export const CLOUD_SERVICE = "compute";

/** HTTP client of the virtual cloud's API (used by the driver and by the node simulator). */
export class CloudClient {
  readonly endpoint: string;
  readonly #token: string | undefined;
  readonly #opts: CloudClientOptions;

  constructor(endpoint: string, token?: string, opts: CloudClientOptions = {}) {
    this.endpoint = endpoint.replace(/\/$/, "");
    this.#token = token;
    this.#opts = opts;
  }

  #call<T>(method: string, path: string, body?: unknown, callSignal?: AbortSignal): Promise<T> {
    const signals = [this.#opts.signal, callSignal].filter((s) => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const send = () => this.#send<T>(method, path, body, signal);
    return this.#opts.metrics ? this.#opts.metrics.request(CLOUD_SERVICE, send) : send();
  }

  async #send<T>(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}${path}`, {
        method,
        headers: {
          "Content-Type": "application/json",
          ...(this.#token ? { Authorization: `Bearer ${this.#token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new CloudCallError(
        0,
        "Unreachable",
        `virtual cloud at ${this.endpoint} unreachable: ${String(err)}`,
      );
    }
    const parsed: unknown = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = parsed as Partial<CloudError>;
      throw new CloudCallError(res.status, e.code ?? "InternalError", e.message ?? `HTTP ${res.status}`);
    }
    return parsed as T;
  }

  createVm(input: CreateVmInput): Promise<Vm> {
    return this.#call("POST", "/vms", input);
  }

  getVm(id: string): Promise<Vm> {
    return this.#call("GET", `/vms/${encodeURIComponent(id)}`);
  }

  /** Every VM that matches, following the list's pages. */
  async findVms(filter: { name?: string; tags?: Record<string, string> }): Promise<Vm[]> {
    const q = tagQuery(filter.tags);
    if (filter.name !== undefined) q.set("name", filter.name);
    q.set("limit", String(this.#opts.pageSize ?? 500));
    const out: Vm[] = [];
    let next: string | undefined;
    do {
      if (next) q.set("continue", next);
      const page = await this.#call<{ vms: Vm[]; continue?: string }>("GET", `/vms?${q.toString()}`);
      out.push(...page.vms);
      next = page.continue;
    } while (next);
    return out;
  }

  /** Requests the cloud has answered, by kind (for tests of paging). */
  stats(): Promise<{ listPages: number }> {
    return this.#call("GET", "/stats");
  }

  async deleteVm(id: string): Promise<void> {
    await this.#call("DELETE", `/vms/${encodeURIComponent(id)}`);
  }

  /** The NICs and disks carrying all the given tags, attached or left behind. */
  async findDependents(tags: Record<string, string>): Promise<Dependent[]> {
    const q = tagQuery(tags);
    return (await this.#call<{ dependents: Dependent[] }>("GET", `/dependents?${q.toString()}`)).dependents;
  }

  /** Deletes a NIC or disk (InUse while it is attached to a VM). */
  async deleteDependent(id: string): Promise<void> {
    await this.#call("DELETE", `/dependents/${encodeURIComponent(id)}`);
  }

  changes(since: number, waitMs: number, signal?: AbortSignal): Promise<{ version: number; vms: Vm[] }> {
    return this.#call("GET", `/changes?since=${since}&waitMs=${waitMs}`, undefined, signal);
  }

  setFaults(faults: Partial<Faults>): Promise<Faults> {
    return this.#call("PUT", "/faults", faults);
  }
}

function tagQuery(tags: Record<string, string> = {}): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(tags)) q.append("tag", `${k}=${v}`);
  return q;
}
