import tseslint from "typescript-eslint";
import convexPlugin from "@convex-dev/eslint-plugin";
import reactHooks from "eslint-plugin-react-hooks";

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
    files: ["**/*.tsx", "lib/hooks/**/*.ts", "components/**/*.ts"],
    plugins: { "react-hooks": reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
);
