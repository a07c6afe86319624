// NODE_DEBUG=poll: one line on stderr for each thing a poller does (made, a watch added,
// changed or removed, a batch delivered, a rebuild, closed), through Node's util.debuglog, as
// NODE_DEBUG=net does for sockets. Read once, when core loads: every trace point is behind the
// constant `tracing`, so with it off a point costs one test of a constant, and no string is made.
import { debuglog } from 'node:util';

const log = debuglog('poll');

/** Whether NODE_DEBUG names poll (false where the runtime's debuglog has no `enabled`). */
export const tracing: boolean = (log as { enabled?: boolean }).enabled === true;

/** Call only behind `if (tracing)`. */
export function trace(message: string): void {
  log('%s', message);
}

/** Interest bits as names, for the trace. */
export function bitNames(mask: number, names: Record<string, number>): string {
  const set = Object.entries(names)
    .filter(([, bit]) => (mask & bit) !== 0)
    .map(([name]) => name.toLowerCase());
  return set.length ? set.join('|') : 'none';
}
