// typescript-eslint's strict, type-checked rules over every package (`pnpm lint`, run by
// `npm test`). Where a rule is tuned, the comment says why.
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**", "**/dist/**", "**/.next/**", "**/build/**", "**/*.js", "**/*.mjs", "**/*.cjs",
      "**/next-env.d.ts", "e2e/test-results/**", "e2e/playwright-report/**", "e2e/artifacts/**",
    ],
  },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // numbers in messages ("pid 42", "exit 7") are what the messages are made of
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // `() => void x()` and `(x) => list.push(x)` in callbacks are the codebase's idiom
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      // with noUncheckedIndexedAccess, `!` marks an index the code has just checked or built
      "@typescript-eslint/no-non-null-assertion": "off",
      // node:test's describe/it/test return promises the runner itself awaits
      "@typescript-eslint/no-floating-promises": ["error", {
        allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "before", "after", "beforeEach", "afterEach"] }],
      }],
    },
  },
  {
    // Every catch in the product names what it expects or logs what it did not (src/errors.ts in
    // the agent, src/lib/errors.ts in the dashboard): a catch without its error cannot do either.
    files: ["apps/*/src/**", "packages/*/src/**"],
    rules: {
      "no-restricted-syntax": ["error", { selector: "CatchClause[param=null]", message: "Name the error: handle the errors you expect by name, and log any other (expected() in src/errors.ts)." }],
      "@typescript-eslint/no-unused-vars": ["error", { caughtErrors: "all" }],
    },
  },
  {
    // Tests and the bench read JSON off the wire as it comes (answers, events, logs): checking its
    // shape is what their assertions do, so typing every read first would add only casts.
    files: ["**/test/**", "e2e/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/restrict-plus-operands": "off",
    },
  },
  {
    // React's rules for the dashboard (Playwright's fixtures call a `use` that is not React's)
    files: ["apps/web/src/**/*.tsx", "apps/web/src/**/*.ts"],
    plugins: { "react-hooks": reactHooks },
    rules: { "react-hooks/rules-of-hooks": "error", "react-hooks/exhaustive-deps": "warn" },
  },
);
