import { setImmediate as immediate } from 'node:timers/promises';
import { PollerBase, type PollerOptions } from '../src/index.js';
import { FakeBackend, type FakeBackendOptions } from './fake-backend.js';

/** The error `fn` throws synchronously; fails the test when it does not throw. */
export function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw synchronously');
}

/**
 * What once() or events() report a failure with, as Node's promise APIs do: the call itself
 * must not throw; the promise (once) or the first next() (events) rejects, and an iterator is
 * done afterwards. Fails the test otherwise.
 */
export async function rejected(fn: () => unknown): Promise<any> {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    throw new Error(`expected a rejection, but the call threw synchronously: ${String(err)}`);
  }
  if (result instanceof Promise) return rejection(result);
  const it = result as AsyncIterator<unknown>;
  const err = await rejection(it.next());
  const after = await it.next();
  if (after.done !== true) throw new Error('expected the iterator to be done after its failure');
  return err;
}

/** The reason `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

/** Settlement state of a promise, observed after the microtask queue drains. */
export async function state<T>(promise: Promise<T>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let s: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  promise.then(
    () => (s = 'fulfilled'),
    () => (s = 'rejected'),
  );
  await immediate();
  return s;
}

export function setup(options?: PollerOptions, fakeOptions?: FakeBackendOptions) {
  const fake = new FakeBackend(fakeOptions);
  const poller = new PollerBase(fake, options);
  return { fake, poller };
}

export const noop = (): void => {};

/**
 * Collects uncaught exceptions in place of the test runner's own handlers until `restore()`:
 * for errors the library rethrows on process.nextTick.
 */
export function catchUncaught(): { caught: unknown[]; restore: () => void } {
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const caught: unknown[] = [];
  const handler = (err: unknown): void => {
    caught.push(err);
  };
  process.on('uncaughtException', handler);
  return {
    caught,
    restore() {
      process.off('uncaughtException', handler);
      for (const listener of saved) process.on('uncaughtException', listener);
    },
  };
}
