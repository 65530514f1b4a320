/** A failed API call, with the message the server chose to show users. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string = "error",
    readonly retryable: boolean = false,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The stream stopped before the server finished the turn (network drop, proxy cut). */
export class StreamInterrupted extends Error {
  constructor() {
    super("The connection was lost before the answer finished.");
    this.name = "StreamInterrupted";
  }
}

/** Turn a non-2xx response into an ApiError without ever showing raw bodies. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let message = `The server answered ${response.status}.`;
  let code = "http_" + response.status;
  try {
    const body = (await response.json()) as { error?: { message?: unknown; code?: unknown } };
    if (typeof body?.error?.message === "string") message = body.error.message;
    if (typeof body?.error?.code === "string") code = body.error.code;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): keep the generic message.
  }
  if (response.status === 401) code = "unauthenticated";
  const retryable = response.status === 429 || response.status >= 500;
  return new ApiError(message, response.status, code, retryable);
}

/** What to tell the user about a failure; never a stack trace or raw response. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "Your session has ended. Sign in again to continue.";
    return error.message;
  }
  return "Something went wrong. Please try again.";
}
