import { ApiError, ClientError } from "@sotto/api";
import { useState } from "preact/hooks";

/** Runs an action and keeps its failure as a sentence: what failed, why, and what to do. */
export function useErrors() {
  const [error, setError] = useState<string | undefined>();
  async function run<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await action();
      setError(undefined);
      return result;
    } catch (e) {
      setError(`${what} failed: ${describe(e)}`);
      return undefined;
    }
  }
  return { error, run, setError };
}

export function describe(error: unknown): string {
  if (error instanceof ClientError)
    return `sottod is not reachable (${error.message}); it will retry by itself.`;
  if (error instanceof ApiError) return `${error.message}.`;
  return error instanceof Error ? error.message : String(error);
}

/** The failure of the last action, announced to screen readers; nothing when there is none. */
export function ErrorLine({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
