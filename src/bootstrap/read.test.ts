import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { nodeJoinOf } from "./join.ts";
import { readIgnitionInput } from "./ignition.ts";
import { BootstrapInputError } from "./model.ts";
import { hasTokenPlaceholder, substitutePlaceholders } from "./placeholders.ts";
import { decodeDataUrl, mimeParts, readUserData } from "./read.ts";

const TOKEN = "abcdef.0123456789abcdef";
const kubeconfig = (token: string) =>
  [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: c, cluster: {server: 'https://api:6443', certificate-authority-data: " +
      `${Buffer.from("PEM").toString("base64")}}}]`,
    `users: [{name: u, user: {token: '${token}'}}]`,
    "contexts: [{name: x, context: {cluster: c, user: u}}]",
    "current-context: x",
    "",
  ].join("\n");

/** User data written by hand in the shapes other tools produce (not sprout's renderers). */
describe("reading user data as a node boots it", () => {
  it("cloud-config write_files in every encoding cloud-init knows", () => {
    const gz = gzipSync(Buffer.from("zipped")).toString("base64");
    const view = readUserData(
      [
        "#cloud-config",
        "write_files:",
        "  - {path: /a, content: plain}",
        `  - {path: /b, encoding: b64, content: ${Buffer.from("bytes").toString("base64")}}`,
        `  - {path: /c, encoding: gz+b64, content: '${gz}'}`,
        "  - {path: /a, content: ' more', append: true}",
      ].join("\n"),
    );
    expect(view.format).toBe("cloud-config");
    expect(Object.fromEntries([...view.files].map(([p, b]) => [p, b.toString()]))).toEqual({
      "/a": "plain more",
      "/b": "bytes",
      "/c": "zipped",
    });
  });

  it("gzip-compressed user data and base64 MIME parts", () => {
    const cc = `#cloud-config\nwrite_files:\n  - path: /var/lib/kubelet/bootstrap-kubeconfig\n    content: |\n${kubeconfig(
      TOKEN,
    )
      .split("\n")
      .map((l) => `      ${l}`)
      .join("\n")}\n`;
    const mime = [
      'Content-Type: multipart/mixed; boundary="XYZ"',
      "MIME-Version: 1.0",
      "",
      "--XYZ",
      "Content-Type: text/x-shellscript",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("#!/bin/sh\necho hi\n").toString("base64"),
      "--XYZ",
      "Content-Type: text/cloud-config",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from(cc).toString("base64"),
      "--XYZ--",
      "",
    ].join("\r\n");
    const view = readUserData(gzipSync(Buffer.from(mime)));
    expect(view.format).toBe("multipart");
    expect(mimeParts(mime).map((b) => b.toString())).toEqual(["#!/bin/sh\necho hi\n", cc]);
    expect(nodeJoinOf(view)).toMatchObject({ token: TOKEN, server: "https://api:6443", caPem: "PEM" });
  });

  it("Ignition files from data URLs (percent-encoded, base64, gzip) and merged configs, the child last", () => {
    const child = JSON.stringify({
      ignition: { version: "3.4.0" },
      storage: { files: [{ path: "/a", contents: { source: "data:,child" } }] },
    });
    const config = {
      ignition: {
        version: "3.4.0",
        config: { merge: [{ source: `data:;base64,${Buffer.from(child).toString("base64")}` }] },
      },
      storage: {
        files: [
          { path: "/a", contents: { source: "data:,parent" } },
          { path: "/b", contents: { source: "data:,a%20b%0A" } },
          {
            path: "/c",
            contents: { source: `data:;base64,${gzipSync("gz").toString("base64")}`, compression: "gzip" },
          },
          { path: "/d", contents: { source: "https://example.test/d" } },
        ],
      },
    };
    const view = readUserData(JSON.stringify(config));
    expect(view.format).toBe("ignition");
    expect(view.files.get("/a")?.toString()).toBe("child");
    expect(view.files.get("/b")?.toString()).toBe("a b\n");
    expect(view.files.get("/c")?.toString()).toBe("gz");
    expect(view.files.has("/d")).toBe(false);
  });

  it("a kubeadm join script: the token from the text", () => {
    const join = nodeJoinOf(
      readUserData(
        `#!/bin/bash\nkubeadm join api:6443 --token ${TOKEN} --discovery-token-unsafe-skip-ca-verification\n`,
      ),
    );
    expect(join).toMatchObject({ source: "user data", token: TOKEN });
    expect(join?.server).toBeUndefined();
  });

  it("a placeholder left in place or an empty token: a join without a token", () => {
    expect(
      nodeJoinOf(readUserData("#!/bin/sh\nkubeadm join --token <<BOOTSTRAP_TOKEN>>\n"))?.token,
    ).toBeUndefined();
    const cc = `#cloud-config\nwrite_files:\n  - path: /etc/kubeconfig\n    content: ${JSON.stringify(kubeconfig(""))}\n`;
    const join = nodeJoinOf(readUserData(cc));
    expect(join?.source).toBe("/etc/kubeconfig");
    expect(join?.token).toBeUndefined();
  });

  it("user data with nothing about joining", () => {
    expect(nodeJoinOf(readUserData("#cloud-config\nruncmd: [echo]\n"))).toBeUndefined();
    expect(nodeJoinOf(readUserData(""))).toBeUndefined();
  });

  it("decodes data URLs", () => {
    expect(decodeDataUrl("data:text/plain;charset=utf-8,%3C%3Cx")?.toString()).toBe("<<x");
    expect(decodeDataUrl("data:;base64,aGk=")?.toString()).toBe("hi");
    expect(decodeDataUrl("https://x")).toBeUndefined();
  });
});

describe("placeholders", () => {
  it("are substituted plain and URL-encoded, as MCM does", () => {
    const text = `a <<BOOTSTRAP_TOKEN>> b ${encodeURIComponent("<<BOOTSTRAP_TOKEN>>")} <<MACHINE_NAME>>`;
    expect(hasTokenPlaceholder(text)).toBe(true);
    const out = substitutePlaceholders(text, TOKEN, "m 1");
    expect(out).toBe(`a ${TOKEN} b ${TOKEN} m 1`);
    expect(hasTokenPlaceholder(out)).toBe(false);
  });
});

describe("Ignition input of the user's own", () => {
  it("Butane-like YAML: snake_case to camelCase, inline to data URLs, octal modes", () => {
    const out = readIgnitionInput(
      "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /x\n      mode: 0644\n      contents: {inline: hi}\n" +
        "kernel_arguments: {should_exist: [a]}\n",
    );
    expect(out).toEqual({
      storage: { files: [{ path: "/x", mode: 0o644, contents: { source: "data:,hi" } }] },
      kernelArguments: { shouldExist: ["a"] },
    });
  });

  it.each([
    [
      "variant: fcos\nversion: 1.5.0\nstorage: {files: [{path: /x, contents: {local: x}}]}\n",
      "extra.ignition.storage.files[0].contents.local",
    ],
    ["just: text\n", "extra.ignition"],
    ['{"ignition": {"version": "2.2.0"}}', "extra.ignition.ignition.version"],
  ])("refuses %j", (text, field) => {
    try {
      readIgnitionInput(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BootstrapInputError);
      expect((err as BootstrapInputError).field).toBe(field);
    }
  });
});
