import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePki } from "../../../src/localplane/pki.ts";
import { parseQuery, runQuery } from "./graph.ts";
import { Entra } from "./entra.ts";
import { type ArmFault, Faults } from "./faults.ts";
import {
  ArmError,
  type ArmResource,
  ArmWorld,
  DISK_TYPE,
  type Json,
  NIC_TYPE,
  notFound,
  SUBNET_TYPE,
  VM_TYPE,
} from "./world.ts";

/**
 * A loopback Azure Resource Manager: HTTPS with a CA made for the run, a Microsoft Entra token
 * endpoint on the same server (the SDKs' real credential flow runs against it), and the ARM routes
 * the Azure drivers use with ARM's semantics: PUT of a VM or NIC answers 201 with an
 * Azure-AsyncOperation to poll, DELETE answers 202 with a Location, errors are
 * {"error":{"code","message"}}, any api-version is accepted, Resource Graph pages with $skipToken.
 * Requests without a token it issued are refused (401); a client registered without rights gets 403.
 */
export interface ArmServerOptions {
  /** Resource Graph's page size when the query names no $top (Azure's is 1000). */
  readonly graphPageSize?: number;
}

interface Operation {
  status: "InProgress" | "Succeeded" | "Failed";
  error?: { code: string; message: string };
}

const OPERATION = /^\/providers\/Microsoft\.Sprout\/(operations|operationResults)\/([^/]+)$/i;
const GRAPH = /^\/providers\/Microsoft\.ResourceGraph\/resources$/i;
const IMAGE =
  /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Compute\/locations\/([^/]+)\/publishers\/([^/]+)\/artifacttypes\/vmimage\/offers\/([^/]+)\/skus\/([^/]+)\/versions\/([^/]+)$/i;
const GROUP = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)$/i;
const SUBNET = /^Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i;
const KINDS: Readonly<Record<string, string>> = {
  "microsoft.network/networkinterfaces": NIC_TYPE,
  "microsoft.compute/disks": DISK_TYPE,
  "microsoft.compute/virtualmachines": VM_TYPE,
};
const ALLOCATION_FAILED =
  "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.";
const PROVIDERS = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/(.+)$/i;

export class ArmServer {
  readonly world: ArmWorld;
  readonly entra: Entra;
  readonly faults = new Faults();
  /** Base URL, https://127.0.0.1:<port> (ARM endpoint and Entra authority host at once). */
  readonly url: string;
  /** PEM of the CA that signed the server's certificate. */
  readonly caPem: string;
  /** Path of that PEM (for SSL_CERT_FILE of another client). */
  readonly caFile: string;
  readonly #server: Server;
  readonly #dir: string;
  readonly #operations = new Map<string, Operation>();
  readonly #pageSize: number;
  readonly #sockets: Set<Socket>;

  private constructor(
    server: Server,
    dir: string,
    caPem: string,
    opts: ArmServerOptions,
    sockets: Set<Socket>,
  ) {
    this.#server = server;
    this.#sockets = sockets;
    this.#dir = dir;
    this.caPem = caPem;
    this.caFile = join(dir, "ca.crt");
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.world = new ArmWorld();
    this.entra = new Entra(this.url);
    this.#pageSize = opts.graphPageSize ?? 1000;
  }

  static async start(opts: ArmServerOptions = {}): Promise<ArmServer> {
    const dir = await mkdtemp(join(tmpdir(), "sprout-arm-"));
    const pki = await ensurePki(dir);
    const [cert, key, caPem] = await Promise.all([
      readFile(pki.servingCert),
      readFile(pki.servingKey),
      readFile(pki.caCert, "utf8"),
    ]);
    const handlers: { request?: (req: IncomingMessage, res: ServerResponse) => void } = {};
    const sockets = new Set<Socket>();
    const server = createServer({ cert, key }, (req, res) => handlers.request?.(req, res));
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const arm = new ArmServer(server, dir, caPem, opts, sockets);
    handlers.request = (req, res) => void arm.#handle(req, res);
    return arm;
  }

  inject(fault: ArmFault): void {
    this.faults.add(fault);
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const raw = await body(req);
    const resource = resourceOf(url.pathname);
    this.faults.count(resource, method);
    try {
      if (resource === "token" || resource === "identity") {
        const out = this.entra.handle(method, url, raw);
        return send(res, out.status, out.body);
      }
      this.#authorize(req, url);
      const fault = this.faults.take(resource, method);
      if (fault && !fault.loseAnswer && !fault.asyncFailure)
        return sendError(res, faultError(fault), faultHeaders(fault));
      const out = this.#route(method, url, raw ? (JSON.parse(raw) as Json) : {}, fault);
      if (fault?.loseAnswer) {
        req.socket.destroy();
        return;
      }
      send(res, out.status, out.body, out.headers);
    } catch (err) {
      sendError(res, asArmError(err));
    }
  }

  /** Only tokens this server's Entra ID issued, of a client with rights on the subscription. */
  #authorize(req: IncomingMessage, url: URL): void {
    const caller = this.entra.caller(req.headers.authorization);
    if (!caller) throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.");
    if (!caller.rights) {
      throw new ArmError(
        403,
        "AuthorizationFailed",
        `The client '${caller.clientId}' does not have authorization to perform action over scope '${url.pathname}'.`,
      );
    }
  }

  #operation(op: Operation, kind: "async" | "location"): Record<string, string> {
    const id = randomUUID();
    this.#operations.set(id, op);
    return kind === "async"
      ? {
          "Azure-AsyncOperation": `${this.url}/providers/Microsoft.Sprout/operations/${id}?api-version=2024-01-01`,
        }
      : { Location: `${this.url}/providers/Microsoft.Sprout/operationResults/${id}?api-version=2024-01-01` };
  }

  #route(method: string, url: URL, json: Json, fault: ArmFault | undefined): Answer {
    const path = url.pathname.replace(/\/+$/, "");
    let m: RegExpExecArray | null;
    if ((m = OPERATION.exec(path))) return this.#operationAnswer(m[1] ?? "", m[2] ?? "");
    if (GRAPH.test(path) && method === "POST") return { status: 200, body: this.#graph(json) };
    if ((m = IMAGE.exec(path))) {
      this.#subscription(m[1]);
      return image(path, m);
    }
    if ((m = GROUP.exec(path))) {
      this.#subscription(m[1]);
      return this.#group(method, path, m[2] ?? "");
    }
    if ((m = PROVIDERS.exec(path))) {
      this.#subscription(m[1]);
      return this.#resource(method, m[2] ?? "", m[3] ?? "", json, fault);
    }
    throw new ArmError(404, "InvalidResourceType", `no route for ${method} ${path}`);
  }

  /** Azure-AsyncOperation answers the operation's status; a Location answers 204 once done. */
  #operationAnswer(kind: string, id: string): Answer {
    const op = this.#operations.get(id);
    if (!op) throw new ArmError(404, "NotFound", "no such operation");
    if (kind.toLowerCase() === "operations") return { status: 200, body: op };
    return op.status === "Succeeded" ? { status: 204 } : { status: 500, body: { error: op.error } };
  }

  #group(method: string, path: string, name: string): Answer {
    const exists = this.world.hasResourceGroup(name);
    if (method === "HEAD") return { status: exists ? 204 : 404 };
    if (!exists)
      throw new ArmError(404, "ResourceGroupNotFound", `Resource group '${name}' could not be found.`);
    return { status: 200, body: { id: path, name, properties: { provisioningState: "Succeeded" } } };
  }

  #subscription(id: string | undefined): void {
    if (id?.toLowerCase() !== this.world.subscription.toLowerCase()) {
      throw new ArmError(404, "SubscriptionNotFound", `The subscription '${id}' could not be found.`);
    }
  }

  #resource(method: string, group: string, rest: string, json: Json, fault: ArmFault | undefined): Answer {
    const w = this.world;
    const subnet = SUBNET.exec(rest);
    if (subnet && method === "GET") {
      const found = w.get(w.idOf(group, SUBNET_TYPE, `${subnet[1]}/${subnet[2]}`));
      if (!found) throw new ArmError(404, "NotFound", `Resource ${rest} not found.`);
      return { status: 200, body: view(found) };
    }
    const m = /^(Microsoft\.\w+\/\w+)\/([^/]+)$/i.exec(rest);
    const type = KINDS[(m?.[1] ?? "").toLowerCase()];
    const name = m?.[2] ?? "";
    if (!type)
      throw new ArmError(404, "InvalidResourceType", `The resource type '${rest}' could not be found.`);
    if (method === "GET") {
      const r = w.get(w.idOf(group, type, name));
      if (!r) throw notFound(type, group, name);
      return { status: 200, body: view(r) };
    }
    if (method === "DELETE") return this.#delete(type, group, name);
    if (method === "PATCH" && type === VM_TYPE) {
      const r = w.patchVm(group, name, json);
      return { status: 200, body: view(r), headers: this.#operation({ status: "Succeeded" }, "async") };
    }
    if (method === "PUT") return this.#put(type, group, name, json, fault);
    throw new ArmError(405, "MethodNotAllowed", `${method} is not supported on ${type}`);
  }

  #delete(type: string, group: string, name: string): Answer {
    const w = this.world;
    const existed =
      type === VM_TYPE
        ? w.deleteVm(group, name)
        : type === NIC_TYPE
          ? w.deleteNic(group, name)
          : w.deleteDisk(group, name);
    if (!existed) return { status: 204 };
    return {
      status: 202,
      headers: { ...this.#operation({ status: "Succeeded" }, "location"), "Retry-After": "0" },
    };
  }

  /** PUT answers 201 (200 for an update) with Azure-AsyncOperation; a VM's may fail after it was made. */
  #put(type: string, group: string, name: string, json: Json, fault: ArmFault | undefined): Answer {
    const w = this.world;
    if (type !== VM_TYPE) {
      const { resource, created } =
        type === NIC_TYPE ? w.putNic(group, name, json) : w.putDisk(group, name, json);
      return {
        status: created ? 201 : 200,
        body: view(resource),
        headers: this.#operation({ status: "Succeeded" }, "async"),
      };
    }
    const failed = fault?.asyncFailure === true;
    const { resource, created } = w.putVm(group, name, json, failed);
    const op: Operation = failed
      ? {
          status: "Failed",
          error: { code: fault.code ?? "AllocationFailed", message: fault.message ?? ALLOCATION_FAILED },
        }
      : { status: "Succeeded" };
    const answer = view(resource);
    (answer.properties as Json).provisioningState = created ? "Creating" : "Updating";
    return { status: created ? 201 : 200, body: answer, headers: this.#operation(op, "async") };
  }

  #graph(json: Json): Json {
    const query = parseQuery(typeof json.query === "string" ? json.query : "");
    const subs = Array.isArray(json.subscriptions) ? json.subscriptions.map(String) : [];
    const mine = subs.some((s) => s.toLowerCase() === this.world.subscription.toLowerCase());
    const rows = mine ? runQuery(query, this.world.all()) : [];
    const options = (json.options as Json | undefined) ?? {};
    const top = Math.min(Number(options.$top ?? this.#pageSize) || this.#pageSize, 1000);
    const digest = createHash("sha256")
      .update(typeof json.query === "string" ? json.query : "")
      .digest("hex")
      .slice(0, 16);
    let skip = Number(options.$skip ?? 0) || 0;
    if (typeof options.$skipToken === "string") {
      const token = JSON.parse(Buffer.from(options.$skipToken, "base64url").toString()) as {
        q: string;
        o: number;
      };
      if (token.q !== digest)
        throw new ArmError(400, "BadRequest", "The skip token does not belong to this query.");
      skip = token.o;
    }
    const data = rows.slice(skip, skip + top);
    const next = skip + data.length;
    return {
      totalRecords: rows.length,
      count: data.length,
      resultTruncated: "false",
      data,
      facets: [],
      ...(next < rows.length
        ? {
            $skipToken: Buffer.from(
              JSON.stringify({ q: digest, o: next, n: randomBytes(4).toString("hex") }),
            ).toString("base64url"),
          }
        : {}),
    };
  }
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A platform image: every publisher has every image, except the publisher "missing". */
function image(path: string, m: RegExpExecArray): Answer {
  if (m[3]?.toLowerCase() === "missing")
    throw new ArmError(404, "NotFound", "Artifact: VMImage was not found.");
  const properties = {
    osDiskImage: { operatingSystem: "Linux" },
    hyperVGeneration: "V2",
    architecture: "x64",
  };
  return { status: 200, body: { id: path, name: m[6], location: m[2], properties } };
}

function asArmError(err: unknown): ArmError {
  if (err instanceof ArmError) return err;
  if (err instanceof SyntaxError) return new ArmError(400, "InvalidRequestContent", err.message);
  return new ArmError(500, "InternalServerError", String(err));
}

const faultError = (f: ArmFault): ArmError =>
  new ArmError(
    f.status ?? 500,
    f.code ?? "InternalServerError",
    f.message ?? `injected ${f.code ?? "failure"}`,
  );
const faultHeaders = (f: ArmFault): Record<string, string> =>
  f.retryAfter !== undefined ? { "Retry-After": String(f.retryAfter) } : {};

/** The ARM view of a resource. */
function view(r: ArmResource): Json {
  const managedBy = (r as { managedBy?: string }).managedBy;
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    ...(r.location ? { location: r.location } : {}),
    tags: r.tags,
    ...(r.zones ? { zones: r.zones } : {}),
    ...(managedBy ? { managedBy } : {}),
    properties: structuredClone(r.properties),
  };
}

/** Which kind of request a path is, for faults and counters. */
export function resourceOf(path: string): string {
  const p = path.toLowerCase();
  if (/\/oauth2\/v2\.0\/token$/.test(p)) return "token";
  if (p.includes("openid-configuration") || p.includes("/discovery/instance")) return "identity";
  if (p.includes("microsoft.resourcegraph")) return "resourceGraph";
  if (p.includes("/operations/") || p.includes("/operationresults/")) return "operations";
  if (p.includes("/virtualmachines/")) return "virtualMachines";
  if (p.includes("/networkinterfaces/")) return "networkInterfaces";
  if (p.includes("/disks/")) return "disks";
  if (p.includes("/subnets/")) return "subnets";
  if (p.includes("/artifacttypes/vmimage/")) return "images";
  if (/\/resourcegroups\/[^/]+$/.test(p)) return "resourceGroups";
  return "other";
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

function send(
  res: ServerResponse,
  status: number,
  payload?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = payload === undefined ? "" : JSON.stringify(payload);
  res.writeHead(status, {
    ...(text ? { "Content-Type": "application/json; charset=utf-8" } : {}),
    "x-ms-request-id": randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: ArmError, headers: Record<string, string> = {}): void {
  send(res, err.status, { error: { code: err.code, message: err.message } }, headers);
}
