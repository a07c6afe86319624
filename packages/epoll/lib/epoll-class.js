'use strict';
// The Epoll class of the `epoll` package (4.x), on a poll Poller: the same constructor,
// methods, chaining, `closed` and constants, with epoll's own event bits in the callback.
// Made per Poller class so that the tests can run it on the waiter-thread loop too.
const { constants } = require('node:os');
const { Bits, PollError, kWatchMask, kModifyMask, kDropStale, libraryError, rangeError, typeError } = require('@poll/core');

// Linux's values (<sys/epoll.h>), on every platform: programs compare against these.
const EPOLLIN = 0x001;
const EPOLLPRI = 0x002;
const EPOLLOUT = 0x004;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EPOLLRDHUP = 0x2000;
const EPOLLONESHOT = 0x40000000;
const EPOLLET = 0x80000000;
const CONSTANTS = { EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT };
// EPOLLERR and EPOLLHUP are accepted and mean nothing as interest: the kernel always reports them.
const KNOWN = (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP | EPOLLONESHOT | EPOLLET) >>> 0;

/** What the kernel would have said, as a PollError: the original threw strerror() text for these. */
function kernelError(name, fd) {
  return new PollError('epoll_ctl', constants.errno[name], fd);
}

function validateFd(fd, method) {
  if (typeof fd !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `${method}(fd, …): "fd" must be of type number. Received ${typeof fd}`);
  }
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw rangeError(`${method}(fd, …): "fd" must be an integer >= 0 && <= 2147483647. Received ${fd}`);
  }
}

/**
 * @param {new () => import('@poll/core').PollerBase} Poller
 * @param {import('@poll/core').Backend} backend
 */
function epollClass(Poller, backend) {
  const peerShutdown = (backend.supported & Bits.PEER_SHUTDOWN) !== 0;

  // One poller per thread for every Epoll, as the original has one epoll set per process: one
  // descriptor however many GPIOs are watched, and an fd added by two instances is EEXIST.
  // Made on the first add(); while it watches nothing it neither keeps the process alive nor
  // holds anything the collector cannot take.
  let shared = null;
  /** fd -> the Epoll that added it, for every fd watched on this thread. */
  const owners = new Map();
  function poller() {
    if (shared === null || shared.closed) shared = new Poller();
    return shared;
  }

  function toMask(events, method) {
    if (typeof events !== 'number') {
      throw typeError('ERR_INVALID_ARG_TYPE', `${method}(fd, events): "events" must be of type number. Received ${typeof events}`);
    }
    // EPOLLET is bit 31: accept it as 2147483648 and as the negative int32 some builds gave.
    if (!Number.isInteger(events) || events < -0x80000000 || events > 0xffffffff) {
      throw rangeError(`${method}(fd, events): "events" must be a 32-bit set of Epoll.EPOLL* bits. Received ${events}`);
    }
    const ev = events >>> 0;
    const unknown = ev & ~KNOWN;
    if (unknown !== 0) {
      throw libraryError('ERR_POLL_UNSUPPORTED', `${method}(fd, events): bits 0x${(unknown >>> 0).toString(16)} are not among Epoll's constants`);
    }
    let mask = 0;
    if (ev & EPOLLIN) mask |= Bits.READABLE;
    if (ev & EPOLLOUT) mask |= Bits.WRITABLE;
    if (ev & EPOLLPRI) mask |= Bits.PRIORITY;
    if (ev & EPOLLET) mask |= Bits.EDGE;
    if (ev & EPOLLONESHOT) mask |= Bits.ONESHOT;
    if (ev & EPOLLRDHUP) {
      // kqueue reports a peer's shutdown only as EOF on the read filter.
      if (peerShutdown) mask |= Bits.PEER_SHUTDOWN;
      else if (!(ev & EPOLLIN)) {
        throw libraryError('ERR_POLL_UNSUPPORTED', `${method}(fd, events): the ${backend.name} backend reports EPOLLRDHUP only together with EPOLLIN`);
      }
    }
    return mask;
  }

  /** core's event bits back to epoll's, with EPOLLRDHUP only where it was asked for, as epoll does. */
  function toEvents(mask, requested) {
    let ev = 0;
    if (mask & Bits.READABLE) ev |= EPOLLIN;
    if (mask & Bits.WRITABLE) ev |= EPOLLOUT;
    if (mask & Bits.PRIORITY) ev |= EPOLLPRI;
    if (mask & Bits.ERROR) ev |= EPOLLERR;
    if (mask & Bits.HANGUP) ev |= EPOLLHUP;
    if (requested & EPOLLRDHUP) {
      if (mask & Bits.PEER_SHUTDOWN) ev |= EPOLLRDHUP;
      // kqueue cannot tell a half close from a full one: EOF is both.
      else if (!peerShutdown && mask & Bits.HANGUP) ev |= EPOLLRDHUP;
    }
    return ev >>> 0;
  }

  class Epoll {
    #callback;
    /** fd -> what was asked for (epoll bits), for each fd this instance watches. */
    #fds = new Map();
    #closed = false;
    #onMask = (fd, mask) => {
      const requested = this.#fds.get(fd);
      if (requested === undefined) return;
      const events = toEvents(mask, requested);
      // An event can carry only bits the caller did not ask for (a peer shutdown under
      // EPOLLIN alone arrives with EPOLLIN; this is the guard, not the rule).
      if (events !== 0) this.#callback.call(globalThis, null, fd, events);
    };

    /** @param {(err: Error | null, fd?: number, events?: number) => void} callback */
    constructor(callback) {
      if (typeof callback !== 'function') {
        throw typeError('ERR_INVALID_ARG_TYPE', 'First argument to the Epoll constructor must be a callback');
      }
      this.#callback = callback;
    }

    /** True once close() was called. */
    get closed() {
      return this.#closed;
    }

    add(fd, events) {
      this.#open('add');
      validateFd(fd, 'add');
      const mask = toMask(events, 'add');
      const p = poller();
      const owner = owners.get(fd);
      if (owner !== undefined) {
        // Watched already, by this Epoll or another of this thread (one epoll set, as in the
        // original): EEXIST, unless that fd was closed without remove() and its number now
        // names another file, which epoll itself would let us add.
        if (!p[kDropStale](fd)) throw kernelError('EEXIST', fd);
        owner.#fds.delete(fd);
        owners.delete(fd);
      }
      p[kWatchMask](fd, mask, this.#onMask, this.#ended);
      this.#fds.set(fd, events >>> 0);
      owners.set(fd, this);
      return this;
    }

    modify(fd, events) {
      this.#open('modify');
      validateFd(fd, 'modify');
      const mask = toMask(events, 'modify');
      if (!this.#fds.has(fd)) throw kernelError('ENOENT', fd);
      shared[kModifyMask](fd, mask);
      this.#fds.set(fd, events >>> 0);
      return this;
    }

    remove(fd) {
      this.#open('remove');
      validateFd(fd, 'remove');
      const requested = this.#fds.get(fd);
      if (requested === undefined) throw kernelError('ENOENT', fd);
      shared.remove(fd);
      this.#fds.delete(fd);
      owners.delete(fd);
      return this;
    }

    /**
     * Removes every fd of this instance; no callback runs after it. Unlike the original, a
     * second close() does nothing rather than throw, as close() does across Node.
     */
    close() {
      if (this.#closed) return this;
      this.#closed = true;
      // Every fd is let go, even if one removal fails; the first failure is thrown after.
      let failure = null;
      for (const fd of this.#fds.keys()) {
        try {
          shared.remove(fd);
        } catch (err) {
          failure ??= err;
        }
        owners.delete(fd);
      }
      this.#fds.clear();
      if (failure !== null) throw failure;
      return this;
    }

    #open(method) {
      if (this.#closed) throw libraryError('ERR_POLL_CLOSED', `${method} can't be called after calling close`);
    }

    // The poller ended the watch itself: its fd was closed without remove() and the number may
    // name another file by now. The callback hears of it as err, as it heard of epoll_wait's.
    #ended = (reason, fd) => {
      if (!this.#fds.delete(fd)) return;
      owners.delete(fd);
      const err = libraryError('ERR_POLL_NOT_WATCHED', `fd ${fd} is no longer watched: it was closed before remove()`);
      err.fd = fd;
      err.cause = reason;
      this.#callback.call(globalThis, err);
    };
  }

  for (const [name, value] of Object.entries(CONSTANTS)) {
    Object.defineProperty(Epoll, name, { value, writable: false, enumerable: true, configurable: true });
  }
  return Epoll;
}

module.exports = { epollClass };
