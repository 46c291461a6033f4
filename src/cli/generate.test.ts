import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../localplane/cache.ts";
import { generatedFiles } from "./generate.ts";

describe("generated files", () => {
  it.each([...generatedFiles()])("%s is current (run npm run generate)", async (path, content) => {
    const committed = await readFile(join(repoRoot, path), "utf8").catch(() => "(missing)");
    expect(committed).toBe(content);
  });
});
