// The kqueue backend's behaviour suite with every descriptor refused by kqueue and so watched
// by select(2) (refusing.mjs): the same events, ordering and teardown as the kernel's own
// filters give, except edge-triggered watching, which select(2) cannot give and which is
// therefore not offered (the suite checks it is refused up front).
process.env.POLL_KQUEUE_REFUSE = 'all';
const { behaviourSuite, targetFor } = await import('@poll/behaviour');

if (process.platform === 'linux') {
  behaviourSuite(await targetFor('kqueue (@poll/bsd) on libkqueue, every descriptor on select(2)', '../refusing.mjs', import.meta.url));
}
