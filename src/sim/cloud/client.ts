import type { CloudError, CreateVmInput, Faults, Vm } from "./types.ts";

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

/** HTTP client of the virtual cloud's API (used by the driver and by the node simulator). */
export class CloudClient {
  readonly endpoint: string;
  readonly #token: string | undefined;

  constructor(endpoint: string, token?: string) {
    this.endpoint = endpoint.replace(/\/$/, "");
    this.#token = token;
  }

  async #call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
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

  async findVms(filter: { name?: string; tags?: Record<string, string> }): Promise<Vm[]> {
    const q = new URLSearchParams();
    if (filter.name !== undefined) q.set("name", filter.name);
    for (const [k, v] of Object.entries(filter.tags ?? {})) q.append("tag", `${k}=${v}`);
    return (await this.#call<{ vms: Vm[] }>("GET", `/vms?${q.toString()}`)).vms;
  }

  async deleteVm(id: string): Promise<void> {
    await this.#call("DELETE", `/vms/${encodeURIComponent(id)}`);
  }

  changes(since: number, waitMs: number, signal?: AbortSignal): Promise<{ version: number; vms: Vm[] }> {
    return this.#call("GET", `/changes?since=${since}&waitMs=${waitMs}`, undefined, signal);
  }

  setFaults(faults: Partial<Faults>): Promise<Faults> {
    return this.#call("PUT", "/faults", faults);
  }
}
