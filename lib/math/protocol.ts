/** Formulas to typeset, in one message to the math worker. */
export type MathRequest = { formulas: { key: string; tex: string; display: boolean }[] };
/** Their HTML, in one message back. */
export type MathResponse = { results: { key: string; html: string }[] };
