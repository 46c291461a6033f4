import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What moto and LocalStack cannot be made to do on demand: answer with capacity errors, throttle,
 * fail inside EC2, or lose an answer. An Ec2FaultProxy stands between the SDK and the emulator,
 * passes every request through unchanged (signatures stay valid) and, for the requests a fault
 * matches, answers with EC2's own error document instead, so the SDK's real error parsing runs.
 */
export interface Ec2Fault {
  /** EC2 action it applies to (RunInstances, DescribeInstances, …); every action when unset. */
  readonly action?: string;
  /** EC2 error code to answer with (InsufficientInstanceCapacity, RequestLimitExceeded, …). */
  readonly code?: string;
  /** HTTP status; by default the one EC2 uses for the code. */
  readonly status?: number;
  /** How many matching requests it hits; unlimited when unset. */
  readonly times?: number;
  /** Pass the request on, then drop the connection: the emulator acted, the answer is lost. */
  readonly loseAnswer?: boolean;
  /**
   * Pass the request on, then run this with the emulator's answer before handing it back: what EC2
   * does after it answered (an instance that fails at launch is terminated, say).
   */
  readonly afterwards?: (answer: string) => Promise<void>;
}

const STATUS: Readonly<Record<string, number>> = {
  RequestLimitExceeded: 503,
  ServiceUnavailable: 503,
  InternalError: 500,
  InsufficientInstanceCapacity: 500,
  AuthFailure: 401,
  UnauthorizedOperation: 403,
};

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** EC2's error document (the shape the SDK's ec2 protocol parses). */
export function ec2ErrorXml(code: string, message: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`
  );
}

interface ActiveFault extends Ec2Fault {
  left: number;
}

export class Ec2FaultProxy {
  readonly endpoint: string;
  readonly #server: Server;
  readonly #upstream: URL;
  #faults: ActiveFault[] = [];
  readonly #calls = new Map<string, number>();

  private constructor(server: Server, upstream: string) {
    this.#server = server;
    this.#upstream = new URL(upstream);
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Starts a proxy on a free loopback port in front of `upstream` (moto or LocalStack). */
  static async start(upstream: string): Promise<Ec2FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const proxy = new Ec2FaultProxy(server, upstream);
    server.on("request", (req, res) => void proxy.#handle(req, res));
    return proxy;
  }

  /** Adds a fault; faults added earlier match first. */
  inject(fault: Ec2Fault): void {
    this.#faults.push({ ...fault, left: fault.times ?? Infinity });
  }

  clear(): void {
    this.#faults = [];
  }

  /** Requests seen for an EC2 action (answered by a fault or passed on). */
  calls(action: string): number {
    return this.#calls.get(action) ?? 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const action = new URLSearchParams(body.toString("utf8")).get("Action") ?? "";
    this.#calls.set(action, this.calls(action) + 1);
    const fault = this.#faults.find((f) => f.left > 0 && (f.action === undefined || f.action === action));
    if (fault) fault.left--;
    if (fault?.code !== undefined) {
      const status = fault.status ?? STATUS[fault.code] ?? 400;
      res.writeHead(status, { "Content-Type": "text/xml" });
      res.end(ec2ErrorXml(fault.code, `injected ${fault.code} for ${action}`));
      return;
    }
    try {
      const answer = await this.#forward(req, body);
      await fault?.afterwards?.(answer.body.toString("utf8"));
      if (fault?.loseAnswer) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      res.socket?.destroy();
    }
  }

  #forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = request(
        {
          host: this.#upstream.hostname,
          port: this.#upstream.port,
          method: req.method,
          path: req.url,
          // The Host header stays the proxy's: it is part of the SigV4 signature an emulator may check.
          headers: req.headers,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (c: Buffer) => chunks.push(c));
          answer.on("end", () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(answer.headers)) {
              if (typeof v === "string" && k !== "transfer-encoding" && k !== "connection") headers[k] = v;
            }
            resolve({ status: answer.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
          });
          answer.on("error", reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });
  }
}
