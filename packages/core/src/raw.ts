// The mask-level API of the project's own packages built on a Poller (@poll/epoll), not for
// applications: no semver promise. PollerBase implements it under these symbols.

/**
 * `poller[kWatchMask](fd, mask, onMask, onEnd)` watches with core's bit set directly (any
 * interest bits, even none: the kernel then reports only hangup and error) and calls
 * `onMask(fd, mask)` with the event's bits, making no event object; `onEnd(reason, fd)` is called
 * when the poller ends the watch (close(), or a rebuild that finds its fd closed), not on
 * remove(), which only its owner calls. `poller[kModifyMask](fd, mask)` changes such a watch (and
 * rearms a oneshot one).
 */
export const kWatchMask: unique symbol = Symbol('@poll/core watchMask');
export const kModifyMask: unique symbol = Symbol('@poll/core modifyMask');
/**
 * `poller[kDropStale](fd)`: when `fd` is watched but the kernel's record says the registration
 * belongs to another file (its fd was closed without remove() and the number reused), removes
 * it and returns true, so that the number can be added afresh, as epoll itself allows. False
 * when it is the same file, or where the kernel keeps no record (kqueue).
 */
export const kDropStale: unique symbol = Symbol('@poll/core dropStale');
