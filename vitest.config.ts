import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/env/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "plugins/**/*.test.ts"],
        },
      },
      {
        test: {
          // Renders checked against golden files and the real validators (cloud-init, ignition-validate).
          name: "golden",
          include: ["test/golden/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/env/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One real control plane is shared by all files; files run in parallel on it and
          // isolate by namespace.
          maxWorkers: 2,
        },
      },
    ],
  },
});
