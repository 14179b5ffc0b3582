/** Offline codegen's public entry (`npm run codegen` is cli.ts). */
export { runCodegen, type CodegenResult } from "./codegen";
