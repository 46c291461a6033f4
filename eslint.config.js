import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "crds/", "bench/results/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.js", "hack/*.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unnecessary-condition": "off",
      // client-node models are classes, but the API takes plain objects everywhere.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "@typescript-eslint/no-confusing-void-expression": "off",
      complexity: ["error", 15],
      "max-depth": ["error", 4],
      "max-lines": ["error", { max: 400, skipBlankLines: true, skipComments: true }],
      "no-console": "error",
    },
  },
  {
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: { "max-lines": "off" },
  },
  {
    // Tests wait on facts, not time (docs/development.md): eventually(), vi.waitFor() or a FakeClock.
    files: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        ...["node:timers/promises", "timers/promises"].map((name) => ({
          name,
          importNames: ["setTimeout", "scheduler"],
          message:
            "A test waits on a fact (eventually(), vi.waitFor()) or drives a FakeClock; it does not sleep.",
        })),
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "NewExpression[callee.name='Promise'] CallExpression[callee.name='setTimeout']",
          message:
            "A test waits on a fact (eventually(), vi.waitFor()) or drives a FakeClock; it does not sleep.",
        },
      ],
    },
  },
  {
    files: ["eslint.config.js", "hack/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
