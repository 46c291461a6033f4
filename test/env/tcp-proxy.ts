import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy on loopback in front of one server (an apiserver), that a test can cut: while cut,
 * every open connection is dropped and new ones are accepted and never answered, as a partition
 * looks to a client; restored, it forwards new connections again.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  /** Connections accepted while cut, held unanswered. */
  readonly #hung = new Set<Socket>();
  #cut = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(createServer());
    proxy.#server.on("connection", (client) => {
      proxy.#open.add(client);
      client.on("close", () => proxy.#open.delete(client));
      client.on("error", () => undefined);
      if (proxy.#cut) {
        proxy.#hung.add(client);
        client.on("close", () => proxy.#hung.delete(client));
        client.resume();
        return;
      }
      const upstream = connect(target.port, target.host);
      proxy.#open.add(upstream);
      upstream.on("close", () => {
        proxy.#open.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Drops every connection; new ones hang. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#open) socket.destroy();
  }

  /**
   * Forwards again. The connections held while cut are reset, as a client's stuck handshake fails
   * once the network heals, so its caller tries again on a fresh one.
   */
  restore(): void {
    this.#cut = false;
    for (const socket of this.#hung) socket.destroy();
  }

  async stop(): Promise<void> {
    this.#cut = true;
    for (const socket of this.#open) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
