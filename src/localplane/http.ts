import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** A small HTTP(S) GET/POST used for health checks of local components. */
export function httpCall(
  url: string,
  opts: { method?: string; ca?: string; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = u.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(
      u,
      { method: opts.method ?? "GET", ca: opts.ca, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout calling ${url}`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** True when a GET of `url` answers 200 (for readiness checks; a failed call rejects). */
export async function httpOk(url: string, opts: { ca?: string } = {}): Promise<boolean> {
  return (await httpCall(url, opts)).status === 200;
}
