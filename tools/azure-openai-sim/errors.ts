/** Azure OpenAI's error bodies and content-filter results, as recorded from the real service. */
import type { SimRetryHint } from "./directives";

const SAFE = { filtered: false, severity: "safe" };
export const SAFE_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
export const PROMPT_RESULTS = { ...SAFE_RESULTS, jailbreak: { filtered: false, detected: false } };
export const VIOLATION_RESULTS = {
  ...SAFE_RESULTS,
  violence: { filtered: true, severity: "medium" },
};

/** An error answered as an HTTP response with Azure's body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code);
  }
}

/** Azure's own error shape: `{ error: { code, message } }`. */
export function azureError(
  status: number,
  code: string,
  message: string,
  extra: object = {},
): HttpError {
  return new HttpError(status, { error: { code, message, ...extra } }, code);
}

/** OpenAI's validation error shape, which Azure passes through for model-level checks. */
export function invalidRequest(
  message: string,
  param: string | null = null,
  code: string | null = null,
): HttpError {
  return new HttpError(
    400,
    { error: { message, type: "invalid_request_error", param, code } },
    code ?? "invalid_request_error",
  );
}

/** The errors Azure answers before a reply starts. */
export const ERRORS = {
  resourceNotFound: () => azureError(404, "404", "Resource not found"),
  apiVersion: () => azureError(400, "BadRequest", "API version not supported"),
  missingKey: () =>
    azureError(
      401,
      "401",
      "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
    ),
  badKey: () =>
    azureError(
      401,
      "401",
      "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    ),
  badToken: () =>
    new HttpError(
      401,
      {
        statusCode: 401,
        message:
          "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
      },
      "401",
    ),
  deploymentNotFound: () =>
    azureError(
      404,
      "DeploymentNotFound",
      "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
    ),
  rateLimited: (seconds: number, hint: SimRetryHint) => {
    const exceeded =
      "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier.";
    const quota =
      "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.";
    const whole = Math.ceil(seconds);
    const message =
      hint === "retry-after" || hint === "message"
        ? `${exceeded} Please retry after ${whole} seconds. ${quota}`
        : hint === "try-again"
          ? `Rate limit is exceeded. Try again in ${whole} seconds.`
          : `${exceeded} ${quota}`;
    const error = azureError(429, "429", message);
    if (hint === "retry-after") Object.assign(error.headers, retryHeaders(seconds));
    if (hint === "reset-tokens" || hint === "reset-requests") {
      const kind = hint === "reset-tokens" ? "tokens" : "requests";
      error.headers[`x-ratelimit-reset-${kind}`] = String(whole);
      error.headers[`x-ratelimit-remaining-${kind}`] = "0";
    }
    return error;
  },
  serverError: (status: number) =>
    azureError(
      status,
      String(status),
      "The service is temporarily unable to process your request. Please try again later.",
    ),
  promptFiltered: () =>
    azureError(
      400,
      "content_filter",
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      {
        param: "prompt",
        status: 400,
        innererror: {
          code: "ResponsibleAIPolicyViolation",
          content_filter_result: VIOLATION_RESULTS,
        },
      },
    ),
};

/**
 * The error an in-stream failure carries: a server error (OpenAI's wording), or a rate limit
 * delivered inside a 200 stream as Azure sent it to a gpt-5 Responses stream (resp-09 A).
 */
export function streamError(
  fault: "error-event" | "rate-limit-event",
  plan: { retryAfter: number | null },
): { type: string; code: string; message: string; param: null } {
  if (fault === "rate-limit-event") {
    return {
      type: "server_error",
      code: "rate_limit_exceeded",
      message: `Rate limit is exceeded. Try again in ${Math.ceil(plan.retryAfter ?? 1)} seconds.`,
      param: null,
    };
  }
  return {
    type: "server_error",
    code: "server_error",
    message:
      "The server had an error processing your request. Sorry about that! You can retry your request.",
    param: null,
  };
}

/** `retry-after` in seconds and `retry-after-ms`, as Azure sends them. */
export function retryHeaders(seconds: number): Record<string, string> {
  return {
    "retry-after": String(Math.ceil(seconds)),
    "retry-after-ms": String(Math.round(seconds * 1000)),
  };
}
