import { setImmediate as immediate } from 'node:timers/promises';
import type { PollEvent } from '@poll/linux';

/** Lets the event loop go round `n` times: each turn is one epoll poll phase. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await immediate();
}

/** Collects events; `until` resolves once `count` events have arrived. */
export function recorder() {
  const events: PollEvent[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  const onEvent = (event: PollEvent): void => {
    events.push(event);
    if (waiting && events.length >= waiting.count) {
      waiting.resolve();
      waiting = null;
    }
  };
  const until = (count: number): Promise<void> =>
    events.length >= count ? Promise.resolve() : new Promise((resolve) => (waiting = { count, resolve }));
  return { events, onEvent, until };
}
