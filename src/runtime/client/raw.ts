import { Agent, type AgentOptions, request, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** An error response of the Kubernetes API, with its HTTP status and Status object. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string | undefined;
  readonly body: unknown;

  constructor(code: number, body: unknown) {
    const status = body as { message?: string; reason?: string } | undefined;
    super(status?.message ?? `HTTP ${code}`);
    this.name = "KubeApiError";
    this.code = code;
    this.reason = status?.reason;
    this.body = body;
  }
}

/** A request that got no complete answer within its deadline; the connection was closed. */
export class KubeTimeoutError extends Error {
  constructor(method: string, path: string, timeoutMs: number) {
    super(`${method} ${path}: no answer from the apiserver within ${timeoutMs / 1000} s`);
    this.name = "KubeTimeoutError";
  }
}

/** Deadline of one apiserver request unless configured (kube-apiserver's own --request-timeout). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface RawRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly query?: Record<string, string>;
  /** Deadline for the whole exchange (connect, send, answer); 0 or unset: none. */
  readonly timeoutMs?: number;
}

const agents = new WeakMap<KubeConfig, Agent>();

/**
 * The kubeconfig's credentials on the request, over one keep-alive connection pool per kubeconfig.
 * client-node's applyToHTTPSOptions makes a new Agent for every call, which means a new TCP and TLS
 * handshake (client certificate included) for every request; sprout reuses connections as client-go
 * does. A cluster reached through a proxy keeps the proxy agent client-node made.
 */
async function withCredentials(kc: KubeConfig, options: RequestOptions): Promise<void> {
  await kc.applyToHTTPSOptions(options);
  if (kc.getCurrentCluster()?.proxyUrl || !(options.agent instanceof Agent)) return;
  let agent = agents.get(kc);
  if (!agent) {
    const tls = (options.agent as Agent & { options: AgentOptions }).options;
    agent = new Agent({ ...tls, keepAlive: true, maxFreeSockets: 64 });
    agents.set(kc, agent);
  }
  options.agent = agent;
}

/**
 * Sends a JSON request to the cluster's apiserver as-is, with the kubeconfig's credentials. Unlike
 * the generated clients it never re-serialises objects through client-side models, so fields the
 * models do not know (CRD schema extensions, custom resources) reach the server unchanged.
 */
export async function rawRequest<T = unknown>(kc: KubeConfig, req: RawRequest): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const url = new URL(req.path, cluster.server);
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  const body = req.body === undefined ? undefined : JSON.stringify(req.body);
  const options: RequestOptions = {
    method: req.method,
    headers: {
      Accept: "application/json",
      // Content-Length always: Node sends no length for a DELETE body otherwise, and the server drops it.
      ...(body === undefined
        ? {}
        : {
            "Content-Type": req.contentType ?? "application/json",
            "Content-Length": Buffer.byteLength(body),
          }),
    },
  };
  await withCredentials(kc, options);
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    const r = request(url, options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("error", fail);
      res.on("aborted", () => fail(new Error(`${req.method} ${req.path}: connection aborted`)));
      res.on("end", () => {
        clearTimeout(timer);
        const parsed: unknown = text.length > 0 ? safeJson(text) : undefined;
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(parsed as T);
        else reject(new KubeApiError(code, parsed));
      });
    });
    const timeoutMs = req.timeoutMs ?? 0;
    if (timeoutMs > 0) {
      timer = setTimeout(() => r.destroy(new KubeTimeoutError(req.method, req.path, timeoutMs)), timeoutMs);
    }
    r.on("error", fail);
    r.end(body);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export interface WatchEvent<T> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: T;
}

/**
 * Streams a watch: calls onEvent for every event until the server ends the stream (resolves), the
 * signal aborts (resolves), nothing arrives for idleTimeoutMs (rejects), or the server sends an
 * ERROR event or an error status (rejects with KubeApiError, e.g. 410 when the resourceVersion is
 * too old).
 */
export async function rawWatch<T>(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  onEvent: (event: WatchEvent<T>) => void,
  opts: { signal?: AbortSignal; idleTimeoutMs?: number } = {},
): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const url = new URL(path, cluster.server);
  for (const [k, v] of Object.entries({ ...query, watch: "true" })) url.searchParams.set(k, v);
  const options: RequestOptions = { method: "GET", headers: { Accept: "application/json" } };
  await withCredentials(kc, options);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      opts.signal?.removeEventListener("abort", onAbort);
      req.destroy();
      if (err) reject(err);
      else resolve();
    };
    const idleMs = opts.idleTimeoutMs ?? 0;
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      if (idleMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => finish(new Error(`watch ${path}: nothing received for ${idleMs} ms`)), idleMs);
    };
    const onAbort = (): void => finish();
    const req = request(url, options, (res) => {
      const code = res.statusCode ?? 0;
      if (code !== 200) {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => finish(new KubeApiError(code, safeJson(text))));
        return;
      }
      touch();
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        touch();
        buffer += chunk;
        let nl = buffer.indexOf("\n");
        while (nl >= 0 && !settled) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf("\n");
          if (line.trim().length === 0) continue;
          const event = safeJson(line) as WatchEvent<T>;
          if (event.type === "ERROR") {
            const status = event.object as { code?: number };
            finish(new KubeApiError(status.code ?? 500, event.object));
            return;
          }
          try {
            onEvent(event);
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)));
            return;
          }
        }
      });
      res.on("end", () => finish());
      res.on("error", (err) => finish(err));
      res.on("aborted", () => finish(new Error(`watch ${path}: connection aborted`)));
    });
    req.on("error", (err) => finish(err));
    if (opts.signal?.aborted) {
      finish();
      return;
    }
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    req.end();
  });
}
