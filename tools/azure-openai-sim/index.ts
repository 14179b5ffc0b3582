/** The Azure OpenAI simulator's public entry: the server, the replies it gives, and their types. */
export {
  startSimulator,
  type SimRequestLogEntry,
  type SimResponseInfo,
  type SimulatorHandle,
  type SimulatorOptions,
} from "./server";
export {
  simulatedCitations,
  simulatedReply,
  simulatedSummary,
  simulatedTitle,
  type SimulatedCitation,
} from "./reply";
export { FAULTS, parseDirective, stripDirective } from "./directives";
export type {
  SimControls,
  SimFault,
  SimFilterCategory,
  SimFilterMode,
  SimRetryHint,
  SimSeam,
} from "./directives";
export { imageTokens, MAX_IMAGE_BYTES } from "./images";
