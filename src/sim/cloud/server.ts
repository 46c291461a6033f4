import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CloudFailure, type VirtualCloud } from "./cloud.ts";
import type { CreateVmInput, Faults, Vm } from "./types.ts";

/** A response body that is never sent: the connection is dropped instead. */
const LOST = Symbol("lost answer");

/**
 * The virtual cloud's HTTP API (JSON):
 *   POST /vms, GET /vms?name=&tag=k=v&limit=&continue= (paged when limit is set: the answer
 *   carries `continue` while more follow), GET /vms/:id, DELETE /vms/:id, GET /stats,
 *   GET /changes?since=&waitMs= (long poll), GET /dependents?tag=k=v (the NICs and disks made
 *   with VMs), DELETE /dependents/:id (409 InUse while attached), GET|PUT /faults, GET /healthz.
 * With a token configured every call but /healthz needs "Authorization: Bearer <token>".
 */
export class CloudServer {
  readonly #cloud: VirtualCloud;
  readonly #token: string | undefined;
  readonly #server: Server;
  #listPages = 0;

  constructor(cloud: VirtualCloud, opts: { token?: string } = {}) {
    this.#cloud = cloud;
    this.#token = opts.token;
    this.#server = createServer((req, res) => void this.#serve(req, res));
  }

  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => resolve());
    });
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const { status, body } = await this.#route(req);
      if (body === LOST) {
        res.socket?.destroy();
        return;
      }
      send(res, status, body);
    } catch (err) {
      if (err instanceof CloudFailure) send(res, err.status, err.body);
      else
        send(res, 500, { code: "InternalError", message: err instanceof Error ? err.message : String(err) });
    }
  }

  async #route(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? "/", "http://cloud");
    const [, resource, id] = url.pathname.split("/");
    if (resource === "healthz") return { status: 200, body: { ok: true } };
    if (resource === "stats") return { status: 200, body: { listPages: this.#listPages } };
    if (this.#token && req.headers.authorization !== `Bearer ${this.#token}`) {
      throw new CloudFailure(401, "Unauthorized", "missing or wrong token");
    }
    if (resource === "faults") {
      if (req.method === "PUT") Object.assign(this.#cloud.faults, (await readJson(req)) as Partial<Faults>);
      return { status: 200, body: this.#cloud.faults };
    }
    this.#cloud.maybeThrottle();
    if (resource === "changes") {
      const since = Number(url.searchParams.get("since") ?? 0);
      const waitMs = Math.min(30_000, Number(url.searchParams.get("waitMs") ?? 0));
      return { status: 200, body: await this.#cloud.changes(since, waitMs) };
    }
    if (resource === "dependents") return this.#dependents(req, url, id);
    if (resource !== "vms") throw new CloudFailure(404, "NotFound", `no route ${url.pathname}`);
    return this.#vms(req, url, id);
  }

  async #vms(
    req: IncomingMessage,
    url: URL,
    id: string | undefined,
  ): Promise<{ status: number; body: unknown }> {
    const wait = (ms: number): Promise<void> => sleep(ms);
    if (req.method === "POST" && !id) {
      const { vm, created } = await this.#cloud.create((await readJson(req)) as CreateVmInput, wait);
      return { status: created ? 201 : 200, body: created && this.#cloud.loseAnswer() ? LOST : vm };
    }
    if (req.method === "GET" && !id) return { status: 200, body: this.#list(url) };
    if (req.method === "GET" && id) return { status: 200, body: this.#cloud.get(id) };
    if (req.method === "DELETE" && id) {
      await this.#cloud.delete(id, wait);
      return { status: 200, body: { id } };
    }
    throw new CloudFailure(400, "InvalidParameter", `unsupported ${req.method} ${url.pathname}`);
  }

  #dependents(req: IncomingMessage, url: URL, id: string | undefined): { status: number; body: unknown } {
    if (req.method === "GET" && !id) {
      return { status: 200, body: { dependents: this.#cloud.findDependents(tagsOf(url)) } };
    }
    if (req.method === "DELETE" && id) {
      this.#cloud.deleteDependent(id);
      return { status: 200, body: { id } };
    }
    throw new CloudFailure(400, "InvalidParameter", `unsupported ${req.method} ${url.pathname}`);
  }

  /** GET /vms: every match, or one page of them (in id order; `continue` is the last id handed out). */
  #list(url: URL): { vms: Vm[]; continue?: string } {
    const tags = tagsOf(url);
    const name = url.searchParams.get("name") ?? undefined;
    const vms = this.#cloud.find({ ...(name === undefined ? {} : { name }), tags });
    const limit = Number(url.searchParams.get("limit") ?? 0);
    if (!(limit > 0)) return { vms };
    this.#listPages++;
    const after = url.searchParams.get("continue") ?? "";
    const rest = vms.sort((a, b) => (a.id < b.id ? -1 : 1)).filter((vm) => vm.id > after);
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    return { vms: page, ...(rest.length > limit && last ? { continue: last.id } : {}) };
  }
}

/** The tag=k=v query parameters. */
function tagsOf(url: URL): Record<string, string> {
  return Object.fromEntries(
    url.searchParams.getAll("tag").map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]),
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  try {
    return text.length > 0 ? JSON.parse(text) : {};
  } catch {
    throw new CloudFailure(400, "InvalidParameter", "body is not JSON");
  }
}
