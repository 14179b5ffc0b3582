import tseslint from "typescript-eslint";
import convexPlugin from "@convex-dev/eslint-plugin";
import reactHooks from "eslint-plugin-react-hooks";

// Imports run one way (docs/architecture.md, "Layout"): app/ and components/ -> lib/ and the
// generated Convex API; convex/ -> lib/; lib/ -> nothing of ours but the generated API types.
// Loops are caught by `npm run check:cycles` (madge).
const from = (folder) => `^(@/|(\\.\\./)+)${folder}`;
const forbidden = {
  tools: {
    regex: from("tools(/|$)"),
    message: "tools/ is dev and test infrastructure, never shipped.",
  },
  components: {
    regex: from("components(/|$)"),
    message: "The UI is imported by nothing below it.",
  },
  app: { regex: from("app(/|$)"), message: "Routes are imported by nothing." },
  convexSource: {
    regex: from("convex/(?!_generated(/|$))"),
    message: "Outside convex/, use the generated API (convex/_generated) or shared code in lib/.",
  },
  react: {
    regex: "^(react|react-dom|convex/react)(/|$)",
    message: "lib/ holds code without React; hooks live in components/hooks.",
  },
};
const onlyImports = (...names) => ({
  "no-restricted-imports": ["error", { patterns: names.map((name) => forbidden[name]) }],
});

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      ".next-*/**",
      "convex/_generated/**",
      // Raw `npm run codegen` output, compared byte for byte by tools/codegen/codegen.test.ts.
      "tools/local-backend/test-fixtures/components/**/_generated/**",
      "bench/peers/convex/_generated/**",
      "next-env.d.ts",
      "bench/results/**",
      ".data/**",
      "test-results/**",
      "**/*.js",
      "**/*.mjs",
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": [
        "error",
        { checksVoidReturn: { attributes: false } },
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  ...convexPlugin.configs.recommended,
  {
    // Tools stay small packages (style.md): a long function means a concern to split out.
    files: ["tools/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "max-lines-per-function": ["error", { max: 150, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // What Convex deploys.
    files: ["convex/**/*.ts"],
    ignores: ["convex/**/*.test.ts", "convex/**/*.setup.ts"],
    rules: onlyImports("tools", "components", "app"),
  },
  {
    // Tests and their setups run the functions against the simulator and the local backend.
    files: ["convex/**/*.test.ts", "convex/**/*.setup.ts"],
    rules: onlyImports("components", "app"),
  },
  {
    files: ["lib/**/*.ts"],
    rules: onlyImports("tools", "components", "app", "convexSource", "react"),
  },
  {
    files: ["components/**/*.{ts,tsx}", "app/**/*.{ts,tsx}", "proxy.ts"],
    rules: onlyImports("tools", "convexSource"),
  },
  {
    files: ["**/*.tsx", "components/**/*.ts"],
    plugins: { "react-hooks": reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
);
