import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Bits, type PollerBase, type PollerOptions, type PollEvent } from '@poll/core';
import { setImmediate as immediate } from 'node:timers/promises';

export interface Target {
  label: string;
  Poller: new (options?: PollerOptions) => PollerBase;
  /** file: URL of a module exporting this Poller, for child processes and workers. */
  module: string;
  /** Interest bits the backend honours (its backend.supported). */
  supported: number;
  /** The backend the Poller is made on (for the model test's planted bugs). */
  backend: unknown;
  /**
   * Model-test violations known on this target for a reason outside poll (a stand-in kernel's
   * deviation, shown by a probe program), each a pattern narrow enough to name the step that
   * meets it, with the reason. A sequence whose every violation matches one is counted and
   * reported, not failed; anything else fails. Real kernels have none.
   */
  modelDeviations?: { violation: RegExp; reason: string }[];
}

/**
 * A Target for the module `specifier`, resolved from `from` (the calling test's
 * import.meta.url) so that each package tests what it itself depends on.
 */
export async function targetFor(label: string, specifier: string, from: string): Promise<Target> {
  const file = createRequire(from).resolve(specifier);
  const module = pathToFileURL(file).href;
  const mod = (await import(module)) as { Poller: Target['Poller']; backend: { supported: number } };
  return { label, Poller: mod.Poller, module, supported: mod.backend.supported, backend: mod.backend };
}

export const canWatchPriority = (target: Target): boolean => (target.supported & Bits.PRIORITY) !== 0;
/** False where the backend offers no edge-triggered watching (kqueue with every descriptor on select(2)). */
export const canWatchEdge = (target: Target): boolean => (target.supported & Bits.EDGE) !== 0;

/** For tests of delivery that need each readiness reported once: edge-triggered where offered, else oneshot. */
export const reportOnce = (target: Target): { edge: true } | { oneshot: true } => (canWatchEdge(target) ? { edge: true } : { oneshot: true });

/** Where edge-triggered watching is not offered, asking for it is refused up front, and nothing is watched. */
export function expectEdgeRefused(poller: PollerBase, fd: number): void {
  let error: unknown;
  try {
    poller.add(fd, { readable: true, edge: true }, () => {});
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error) || (error as NodeJS.ErrnoException).code !== 'ERR_POLL_UNSUPPORTED') {
    throw new Error(`edge-triggered add() was not refused with ERR_POLL_UNSUPPORTED: ${String(error)}`);
  }
  if (poller.size !== 0) throw new Error('a refused add() left a watch behind');
}

/** Lets the event loop go round `n` times: each turn is one poll phase. */
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

/**
 * Waits until `rec` has seen no new event for `quietMs` (at most `limitMs` in all) and returns
 * how many it has. Absence is asserted after this, so that an event legitimately in flight
 * (taken from the kernel before the test changed the descriptor) is not mistaken for a repeat.
 */
export async function settle(rec: { events: unknown[] }, quietMs = 40, limitMs = 2000): Promise<number> {
  const start = Date.now();
  let seen = rec.events.length;
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() - start < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (rec.events.length !== seen) {
      seen = rec.events.length;
      since = Date.now();
    }
  }
  return rec.events.length;
}
