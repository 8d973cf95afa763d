// What both delivery queues' tests check the same way.
import type { MessageQueue } from "@fedify/fedify";

/**
 * Enqueues one message whose handler throws the first time and succeeds the second; answers how many calls
 * the handler got and whether the second came (bounded: the retry is due after 5 s, a minute is the limit).
 */
export async function handlerThrowsOnce(queue: MessageQueue): Promise<{ outcome: string; calls: number }> {
  await queue.enqueue({ n: 1 }, { orderingKey: "dave\nhttp://a" });
  let calls = 0;
  let delivered: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    delivered = resolve;
  });
  const abort = new AbortController();
  const listening = queue.listen(
    async () => {
      calls++;
      if (calls === 1) throw new Error("the KV store went away under Fedify's retry");
      delivered();
    },
    { signal: abort.signal },
  );
  const outcome = await Promise.race([
    done.then(() => "delivered"),
    new Promise<string>((resolve) => setTimeout(() => resolve("not retried"), 60_000)),
  ]);
  abort.abort();
  await listening;
  return { outcome, calls };
}
