import { ApiError, ClientError } from "@sotto/api";
import { useState } from "preact/hooks";

/** Runs an action and keeps its failure as a sentence: what failed, why, and what to do. */
export function useErrors() {
  const [error, setError] = useState<string | undefined>();
  const run = async <T>(what: string, action: () => Promise<T>): Promise<T | undefined> => {
    try {
      const result = await action();
      setError(undefined);
      return result;
    } catch (e) {
      setError(`${what} failed: ${describe(e)}`);
      return undefined;
    }
  };
  return { error, run, setError };
}

export function describe(error: unknown): string {
  if (error instanceof ClientError)
    return `sottod is not reachable (${error.message}); it will retry by itself.`;
  if (error instanceof ApiError) return `${error.message}.`;
  return error instanceof Error ? error.message : String(error);
}
