import { createHash } from "node:crypto";
import { BootstrapInputError, type UserDataPart } from "./model.ts";

/**
 * MIME multipart user data (RFC 2046 multipart/mixed), the way cloud-init reads several parts.
 * Written by hand: cloud-init needs a handful of headers per part and nothing of e-mail, and the
 * text parts must stay unencoded so the machine controller can substitute <<BOOTSTRAP_TOKEN>>.
 */

/** cloud-init's content types by the part's first line (cloudinit/handlers INCLUSION_TYPES_MAP). */
const STARTS_WITH: readonly (readonly [string, string])[] = [
  ["#include-once", "text/x-include-once-url"],
  ["#include", "text/x-include-url"],
  ["#cloud-config-archive", "text/cloud-config-archive"],
  ["#cloud-config-jsonp", "text/cloud-config-jsonp"],
  ["#cloud-config", "text/cloud-config"],
  ["#cloud-boothook", "text/cloud-boothook"],
  ["#part-handler", "text/part-handler"],
  ["#upstart-job", "text/upstart-job"],
  ["## template: jinja", "text/jinja2"],
  ["#!", "text/x-shellscript"],
];

export const CLOUD_CONFIG_TYPE = "text/cloud-config";

/**
 * How cloud-init merges a later cloud-config part into the earlier ones: lists append (write_files,
 * runcmd add to sprout's), mappings merge key by key and the later part's values win.
 */
export const CLOUD_CONFIG_MERGE = "list(append)+dict(recurse_array)+str()";

/** The content type cloud-init gives a part by its first line, or undefined. */
export function detectContentType(content: string): string | undefined {
  return STARTS_WITH.find(([prefix]) => content.startsWith(prefix))?.[1];
}

interface Part {
  readonly contentType: string;
  readonly filename: string;
  readonly content: string;
}

function encodingOf(content: string): "7bit" | "8bit" {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(content) ? "7bit" : "8bit";
}

/**
 * Combines sprout's cloud-config with the user's parts. Parts go in order: sprout's first, then the
 * user's, so a user's cloud-config part extends and overrides sprout's.
 */
export function renderMultipart(cloudConfig: string, userParts: readonly UserDataPart[]): string {
  const parts: Part[] = [
    { contentType: CLOUD_CONFIG_TYPE, filename: "sprout.cfg", content: cloudConfig },
    ...userParts.map((p, i) => {
      const contentType = p.contentType ?? detectContentType(p.content);
      if (!contentType) {
        throw new BootstrapInputError(
          `extra.parts[${i}].contentType`,
          "cannot tell the part's type from its first line (#cloud-config, #!, #include, …); set contentType",
        );
      }
      if (p.content.includes("\0")) {
        throw new BootstrapInputError(`extra.parts[${i}].content`, "must be text");
      }
      return {
        contentType,
        filename: p.filename ?? `part-${String(i + 1).padStart(3, "0")}`,
        content: p.content,
      };
    }),
  ];
  const boundary = `==sprout-${createHash("sha256")
    .update(parts.map((p) => p.content).join("\0"))
    .digest("hex")
    .slice(0, 24)}==`;
  const out = [`Content-Type: multipart/mixed; boundary="${boundary}"`, "MIME-Version: 1.0", ""];
  for (const p of parts) {
    out.push(
      `--${boundary}`,
      `Content-Type: ${p.contentType}; charset="utf-8"`,
      "MIME-Version: 1.0",
      `Content-Transfer-Encoding: ${encodingOf(p.content)}`,
      `Content-Disposition: attachment; filename="${p.filename}"`,
      ...(p.contentType === CLOUD_CONFIG_TYPE ? [`Merge-Type: ${CLOUD_CONFIG_MERGE}`] : []),
      "",
      p.content,
    );
  }
  out.push(`--${boundary}--`, "");
  return out.join("\n");
}
