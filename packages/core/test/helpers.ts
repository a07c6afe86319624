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
