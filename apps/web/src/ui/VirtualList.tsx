// A virtualised list for long conversations: only the rows in (and near) the viewport are in the DOM. Row
// heights are measured once rendered and estimated before; the list keeps the bottom in view while the reader
// is there (new messages), and keeps the reader's place when older rows are added above.
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";

export interface VirtualListProps {
  readonly ids: readonly string[];
  readonly render: (id: string) => ComponentChildren;
  /** Called when the reader is near the top (load older rows). */
  readonly onNearTop?: () => void;
  readonly label: string;
  readonly estimate?: number;
  /** When this changes (the reader sent something), the list goes to the newest row. */
  readonly followKey?: unknown;
}

const OVERSCAN_PX = 600;

export function VirtualList({ ids, render, onNearTop, label, estimate = 56, followKey }: VirtualListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const atBottom = useRef(true);
  const firstId = useRef<string | undefined>(undefined);
  const [, setTick] = useState(0);
  const [view, setView] = useState({ top: 0, height: 800 });
  const [away, setAway] = useState(false);
  const toBottom = () => {
    atBottom.current = true;
    setAway(false);
    const element = scroller.current;
    if (element) element.scrollTop = element.scrollHeight;
  };
  useLayoutEffect(toBottom, [followKey]);

  const offsets = new Float64Array(ids.length + 1);
  for (let i = 0; i < ids.length; i++) {
    offsets[i + 1] = (offsets[i] as number) + (heights.current.get(ids[i] as string) ?? estimate);
  }
  const total = offsets[ids.length] as number;
  const start = Math.max(0, search(offsets, view.top - OVERSCAN_PX) - 1);
  const end = Math.min(ids.length, search(offsets, view.top + view.height + OVERSCAN_PX) + 1);

  // Before paint: measure what was rendered, then restore the reader's place.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    let changed = false;
    let aboveDelta = 0;
    for (const row of element.querySelectorAll<HTMLElement>("[data-row]")) {
      const id = row.dataset.row as string;
      const height = row.offsetHeight;
      const before = heights.current.get(id) ?? estimate;
      if (height !== before) {
        heights.current.set(id, height);
        changed = true;
        if (row.offsetTop + height < element.scrollTop) aboveDelta += height - before;
      }
    }
    const previousFirst = firstId.current;
    firstId.current = ids[0];
    if (atBottom.current) {
      element.scrollTop = element.scrollHeight;
    } else if (previousFirst !== undefined && ids[0] !== previousFirst) {
      // Older rows were added above: keep the row the reader was looking at where it was.
      const index = ids.indexOf(previousFirst);
      if (index > 0) element.scrollTop += offsets[index] as number;
    } else if (aboveDelta !== 0) {
      element.scrollTop += aboveDelta;
    }
    if (changed) setTick((t) => t + 1);
  });

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 32;
    setAway(!atBottom.current);
    setView({ top: element.scrollTop, height: element.clientHeight });
    if (element.scrollTop < OVERSCAN_PX) onNearTop?.();
  };

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() =>
      setView({ top: element.scrollTop, height: element.clientHeight }),
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  return (
    <div class="list">
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the message log scrolls with the keyboard too */}
      <div class="scroller" ref={scroller} onScroll={onScroll} tabIndex={0} role="log" aria-label={label}>
        <div class="spacer" style={{ height: `${total}px` }}>
          <ol class="rows" style={{ transform: `translateY(${offsets[start]}px)` }}>
            {ids.slice(start, end).map((id) => (
              <li key={id} data-row={id}>
                {render(id)}
              </li>
            ))}
          </ol>
        </div>
      </div>
      {away ? (
        <button type="button" class="jump" onClick={toBottom}>
          Jump to newest
        </button>
      ) : null}
    </div>
  );
}

/** The index of the row at `y` (binary search over the row offsets). */
function search(offsets: Float64Array, y: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((offsets[mid] as number) <= y) low = mid;
    else high = mid - 1;
  }
  return low;
}
