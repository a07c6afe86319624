import { Bits, MAX_EVENTS } from './types.js';
import { libraryError, rangeError, typeError } from './errors.js';

const MAX_FD = 2 ** 31 - 1;
// Interest's keys are the names of their Bits in lower case.
const INTEREST_KEYS = ['readable', 'writable', 'priority', 'edge', 'oneshot'] as const;
// A plain lookup, as add() is on the churn path.
const INTEREST_BITS: Readonly<Record<string, number>> = Object.assign(
  Object.create(null),
  Object.fromEntries(INTEREST_KEYS.map((key) => [key, Bits[key.toUpperCase() as Uppercase<typeof key>]])),
);
const EXPECTED_KEYS = `${INTEREST_KEYS.slice(0, -1).join(', ')} or ${INTEREST_KEYS.at(-1)}`;
// Bits the kernel reports whether asked or not: never interest.
const EVENT_ONLY = Bits.HANGUP | Bits.ERROR;
// What a mask-level watch (kWatchMask) may ask for: every other bit.
const INTEREST_MASK = Object.values(Bits).reduce((all, bit) => all | bit, 0) & ~EVENT_ONLY;
// How ERR_POLL_UNSUPPORTED names a bit: its name in lower case, or this.
const BIT_NAMES: Partial<Record<keyof typeof Bits, string>> = { PEER_SHUTDOWN: 'peer shutdown (EPOLLRDHUP) without readable' };

/**
 * What a bad argument was, in the words Node's argument errors end with ("Received …"): null,
 * undefined, a function by its name, an object by its class, a string shortened to 25
 * characters, a primitive with its value.
 */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  switch (typeof value) {
    case 'function':
      return `function ${value.name}`;
    case 'object':
      return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
    case 'string': {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string (${shown.includes("'") ? JSON.stringify(shown) : `'${shown}'`})`;
    }
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    default:
      return `type ${typeof value} (${String(value)})`;
  }
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
        `The "interest" argument has an unknown key ${JSON.stringify(key)}; expected ${EXPECTED_KEYS}`,
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

/** A kWatchMask mask: a number of interest bits alone (any, even none). */
export function validateRawMask(mask: unknown): asserts mask is number {
  if (typeof mask !== 'number' || !Number.isInteger(mask) || (mask & ~INTEREST_MASK) !== 0) {
    throw typeError('ERR_INVALID_ARG_VALUE', `The "mask" argument must be a combination of interest bits. Received ${String(mask)}`);
  }
}

/** `mask`, when the backend honours all of it; else ERR_POLL_UNSUPPORTED naming every bit it does not. */
export function supportedMask(mask: number, supported: number, backend: string): number {
  const unsupported = mask & ~supported;
  if (unsupported === 0) return mask;
  const names = (Object.keys(Bits) as Array<keyof typeof Bits>)
    .filter((name) => unsupported & Bits[name])
    .map((name) => BIT_NAMES[name] ?? name.toLowerCase());
  throw libraryError('ERR_POLL_UNSUPPORTED', `The ${backend} backend cannot watch for ${names.join(', ')} on this platform`);
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

// The streams' options.

/**
 * The options object of a stream: no key it does not know. Where `stringIsEncoding`, a string is
 * the encoding alone, as fs.createReadStream() and fs.createWriteStream() take it.
 */
export function validateStreamOptions(options: unknown, allowed: readonly string[], stringIsEncoding = false): Record<string, unknown> {
  if (options === undefined) return {};
  if (stringIsEncoding && typeof options === 'string') return { encoding: options };
  if (typeof options !== 'object' || options === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw typeError('ERR_INVALID_ARG_VALUE', `The "options" argument has an unknown key ${JSON.stringify(key)}; expected ${allowed.join(', ')}`);
  }
  return options as Record<string, unknown>;
}

/** A byte count up to 1 GiB (a highWaterMark, a chunk or record size). */
export function validateSize(value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `The "options.${name}" property must be of type number. Received ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > 2 ** 30) {
    throw rangeError(`The value of "options.${name}" is out of range. It must be an integer >= ${min} && <= ${2 ** 30}. Received ${value}`);
  }
  return value;
}

export function validateEncoding(value: unknown, name = 'encoding'): BufferEncoding | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !Buffer.isEncoding(value)) {
    const shown = typeof value === 'string' ? `'${value}'` : describe(value);
    throw typeError('ERR_INVALID_ARG_VALUE', `The "options.${name}" property must be an encoding Buffer knows, such as 'utf8'. Received ${shown}`);
  }
  return value;
}

export function validateBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw typeError('ERR_INVALID_ARG_TYPE', `The "options.${name}" property must be of type boolean. Received ${describe(value)}`);
  return value;
}

export function validateStreamSignal(signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.signal" property must be an instance of AbortSignal. Received ${describe(signal)}`);
  }
  return signal;
}
