import { Bits, MAX_EVENTS } from './types.js';
import { rangeError, typeError } from './errors.js';

const MAX_FD = 2 ** 31 - 1;
// Interest keys and their bits; a plain lookup, as add() is on the churn path.
const INTEREST_BITS: Readonly<Record<string, number>> = Object.assign(Object.create(null), {
  readable: Bits.READABLE,
  writable: Bits.WRITABLE,
  priority: Bits.PRIORITY,
  edge: Bits.EDGE,
  oneshot: Bits.ONESHOT,
});

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an instance of ' + (value.constructor?.name ?? 'Object');
  if (typeof value === 'string') return `type string (${JSON.stringify(value)})`;
  return `type ${typeof value} (${String(value)})`;
}

/** A descriptor number as Node checks integers: TypeError for non-numbers, RangeError otherwise. */
export function validateFd(fd: unknown, name = 'fd'): asserts fd is number {
  if (typeof fd !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type number. Received ${describe(fd)}`);
  }
  if (!Number.isInteger(fd)) {
    throw rangeError(`The value of "${name}" is out of range. It must be an integer. Received ${fd}`);
  }
  if (fd < 0 || fd > MAX_FD) {
    throw rangeError(`The value of "${name}" is out of range. It must be >= 0 && <= ${MAX_FD}. Received ${fd}`);
  }
}

/** Interest to core's bit set; unknown keys and non-boolean values are errors, not ignored. */
export function interestToMask(interest: unknown): number {
  if (typeof interest !== 'object' || interest === null || Array.isArray(interest)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "interest" argument must be of type object. Received ${describe(interest)}`);
  }
  let mask = 0;
  for (const key of Object.keys(interest)) {
    const bit = INTEREST_BITS[key];
    if (bit === undefined) {
      throw typeError(
        'ERR_INVALID_ARG_VALUE',
        `The "interest" argument has an unknown key ${JSON.stringify(key)}; expected readable, writable, priority, edge or oneshot`,
      );
    }
    const value = (interest as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') {
      throw typeError('ERR_INVALID_ARG_TYPE', `The "interest.${key}" property must be of type boolean. Received ${describe(value)}`);
    }
    if (value) mask |= bit;
  }
  if ((mask & (Bits.READABLE | Bits.WRITABLE | Bits.PRIORITY)) === 0) {
    throw typeError('ERR_INVALID_ARG_VALUE', 'The "interest" argument must ask for at least one of readable, writable or priority');
  }
  return mask;
}

export function validateMaxEvents(value: unknown): number {
  if (value === undefined) return 1024;
  if (typeof value !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.maxEvents" property must be of type number. Received ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_EVENTS) {
    throw rangeError(`The value of "options.maxEvents" is out of range. It must be an integer >= 1 && <= ${MAX_EVENTS}. Received ${value}`);
  }
  return value;
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type function. Received ${describe(value)}`);
  }
}

/** add()'s options: its onEnd, if any, and whether the watch keeps the event loop alive. */
export function validateAddOptions(options: unknown): { onEnd: ((reason: Error) => void) | undefined; ref: boolean } {
  if (options === undefined) return { onEnd: undefined, ref: true };
  if (typeof options !== 'object' || options === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`);
  }
  const unknownKey = Object.keys(options).find((k) => k !== 'onEnd' && k !== 'ref');
  if (unknownKey !== undefined) throw typeError('ERR_INVALID_ARG_VALUE', `The "options" argument has an unknown property "${unknownKey}"`);
  const { onEnd, ref } = options as { onEnd?: unknown; ref?: unknown };
  if (onEnd !== undefined) validateFunction(onEnd, 'options.onEnd');
  if (ref !== undefined && typeof ref !== 'boolean') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.ref" property must be of type boolean. Received ${describe(ref)}`);
  }
  return { onEnd: onEnd as ((reason: Error) => void) | undefined, ref: ref ?? true };
}

export function validateSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`);
  }
  const signal = (options as { signal?: unknown }).signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.signal" property must be an instance of AbortSignal. Received ${describe(signal)}`);
  }
  return signal;
}
