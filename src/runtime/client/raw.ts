import { request, type RequestOptions } from "node:https";
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

export interface RawRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly query?: Record<string, string>;
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
      ...(body === undefined ? {} : { "Content-Type": req.contentType ?? "application/json" }),
    },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise<T>((resolve, reject) => {
    const r = request(url, options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        const parsed: unknown = text.length > 0 ? safeJson(text) : undefined;
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(parsed as T);
        else reject(new KubeApiError(code, parsed));
      });
    });
    r.on("error", reject);
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

/** Server-side apply of one object at its API path. */
export function serverSideApply<T>(
  kc: KubeConfig,
  path: string,
  object: unknown,
  fieldManager: string,
): Promise<T> {
  return rawRequest<T>(kc, {
    method: "PATCH",
    path,
    body: object,
    contentType: "application/apply-patch+yaml",
    query: { fieldManager, force: "true" },
  });
}
