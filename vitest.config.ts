import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/env/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "plugins/**/*.test.ts", "test/unit/**/*.test.ts"],
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
      {
        // The driver conformance suite, once per plugin and backend (each file starts its own).
        test: {
          name: "conformance",
          include: ["test/conformance/**/*.test.ts"],
          exclude: ["test/conformance/**/*.localstack.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
        },
      },
      // `npm run test:chaos` only: kill -9 and fault runs of several minutes on the shared control plane.
      ...(process.env.SPROUT_CHAOS === "1"
        ? [
            {
              test: {
                name: "chaos",
                include: ["test/chaos/**/*.test.ts"],
                globalSetup: ["test/env/global-setup.ts"],
                testTimeout: 1_200_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
      // `npm run test:localstack` only: the same suite against LocalStack.
      ...(process.env.SPROUT_LOCALSTACK === "1"
        ? [
            {
              test: {
                name: "localstack",
                include: ["test/conformance/**/*.localstack.test.ts"],
                testTimeout: 120_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
    ],
  },
});
