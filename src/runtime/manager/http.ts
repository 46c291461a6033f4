import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthSource {
  /** Alive: the process works and its informers are not wedged. */
  healthz(): { ok: boolean; detail: Record<string, unknown> };
  /** Ready: caches synced; states whether this instance leads or stands by. */
  readyz(): { ok: boolean; detail: Record<string, unknown> };
}

/** Serves /healthz, /readyz and /metrics. */
export class HealthServer {
  readonly #server: Server;
  readonly #source: HealthSource;
  readonly #registry: Registry;

  constructor(source: HealthSource, registry: Registry) {
    this.#source = source;
    this.#registry = registry;
    this.#server = createServer((req, res) => {
      void this.#handle(req.url ?? "/").then(
        ({ status, type, body }) => {
          res.writeHead(status, { "Content-Type": type });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end(String(err));
        },
      );
    });
  }

  async listen(host: string, port: number): Promise<number> {
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

  async #handle(url: string): Promise<{ status: number; type: string; body: string }> {
    const path = url.split("?")[0];
    if (path === "/metrics") {
      return { status: 200, type: this.#registry.contentType, body: await this.#registry.metrics() };
    }
    if (path === "/healthz" || path === "/readyz") {
      const { ok, detail } = path === "/healthz" ? this.#source.healthz() : this.#source.readyz();
      return { status: ok ? 200 : 503, type: "application/json", body: JSON.stringify({ ok, ...detail }) };
    }
    return { status: 404, type: "text/plain", body: "not found" };
  }
}
