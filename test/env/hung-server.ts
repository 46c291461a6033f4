import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP server on loopback that accepts connections and never answers: no TLS handshake, no HTTP
 * response, as a black-holed endpoint behaves. It counts the connections it accepted and the ones
 * the client closed, so a test can wait for the fact that a caller gave up.
 */
export class HungServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  accepted = 0;
  closedByClient = 0;
  #waiters: (() => void)[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<HungServer> {
    const hung = new HungServer(createServer());
    hung.#server.on("connection", (socket) => {
      hung.accepted++;
      hung.#sockets.add(socket);
      socket.on("error", () => undefined);
      // Reads and drops what the client sends (so its closing is seen), and never writes.
      socket.resume();
      socket.on("close", () => {
        hung.#sockets.delete(socket);
        hung.closedByClient++;
        for (const wake of hung.#waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => hung.#server.listen(0, "127.0.0.1", resolve));
    return hung;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once the client has closed at least `n` connections. */
  async closed(n: number): Promise<void> {
    while (this.closedByClient < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
