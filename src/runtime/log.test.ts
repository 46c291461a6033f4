import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { newLogger } from "./log.ts";

describe("logger", () => {
  it("writes JSON with context and never the contents of secrets, user data or tokens", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = newLogger({ level: "info" }, sink).child({ controller: "machine", key: "ns/m1" });
    log.info(
      {
        secret: { data: { userData: "I2Nsb3VkLWNvbmZpZw==" }, stringData: { token: "abc" } },
        request: { headers: { authorization: "Bearer xyz" } },
        userData: "#cloud-config",
        token: "abcdef.0123456789abcdef",
      },
      "creating",
    );
    const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(entry).toMatchObject({ controller: "machine", key: "ns/m1", msg: "creating" });
    const text = lines.join("");
    for (const secret of [
      "I2Nsb3VkLWNvbmZpZw==",
      'abc"',
      "Bearer xyz",
      "#cloud-config",
      "0123456789abcdef",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("[redacted]");
  });
});
