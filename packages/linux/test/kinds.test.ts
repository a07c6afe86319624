// The kinds of descriptor the README names beyond pipes, sockets, ttys and eventfd, each watched
// for real on this kernel: a timerfd, inotify, a netlink socket and a TUN device. The last two
// run in a network namespace of their own (fixtures/net-kinds.mjs, under `unshare`), where a
// user namespace gives the CAP_NET_ADMIN a new link needs and nothing reaches the machine's own
// network. What each one reads is checked too, so an event that came for the wrong reason fails.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from '@poll/linux';
import { closeAll, drain, isOpen, sys } from '@poll/testkit';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'net-kinds.mjs');
const IN_CREATE = 0x100; // <sys/inotify.h>
const RTM_NEWLINK = 16; // <linux/rtnetlink.h>

/** What fixtures/net-kinds.mjs saw of `scenario`, run in a network namespace of its own. */
function inOwnNetwork(scenario: 'netlink' | 'tun'): any {
  const r = spawnSync('unshare', ['--map-root-user', '--net', process.execPath, fixture, scenario], { encoding: 'utf8', timeout: 30_000 });
  expect(r.error).toBeUndefined();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('descriptor kinds beyond pipes and sockets, on this kernel', () => {
  const open: number[] = [];
  const pollers: Poller[] = [];
  const poller = () => {
    const p = new Poller();
    pollers.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of pollers.splice(0)) p.close();
    closeAll(open.splice(0));
  });

  it('a timerfd is readable once it expires, not before, and read(2) gives the number of expiries', async () => {
    const p = poller();
    const start = sys.monotonicNs();
    const fd = sys.timerfd(150);
    open.push(fd);
    const event = await p.once(fd, { readable: true });
    // A timer never fires early: this bound is the kernel's, not a measure of speed.
    expect(Number(sys.monotonicNs() - start) / 1e6).toBeGreaterThanOrEqual(150);
    expect(event).toMatchObject({ fd, readable: true, error: false, hangup: false });
    const [expiries, ...more] = drain(fd);
    expect(more).toEqual([]);
    expect(expiries!.readBigUInt64LE(0)).toBe(1n);
  });

  it('inotify: a file created in the watched directory makes it readable; a read stream gets the event record with its name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-inotify-'));
    try {
      const fd = sys.inotify(dir); // closed by its stream
      const p = poller();
      const stream = p.createReadStream(fd);
      const chunk = once(stream, 'data');
      fs.writeFileSync(path.join(dir, 'hello.txt'), '');
      const [data] = (await chunk) as [Buffer];
      // struct inotify_event: wd, mask, cookie, len, then the name padded with NULs.
      expect(data.readUInt32LE(4) & IN_CREATE).toBe(IN_CREATE);
      const len = data.readUInt32LE(12);
      expect(data.subarray(16, 16 + len).toString().replace(/\0+$/, '')).toBe('hello.txt');
      const closed = once(stream, 'close');
      stream.destroy();
      await closed;
      expect(isOpen(fd)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a netlink route socket is readable when a link appears, and what it reads is RTM_NEWLINK for that link', () => {
    const seen = inOwnNetwork('netlink');
    expect(seen.event).toMatchObject({ readable: true, error: false });
    expect(seen.types).toContain(RTM_NEWLINK);
    expect(seen.name).toMatch(/^polltest\d+$/);
    expect(seen.names).toContain(seen.name);
  });

  it('a TUN device: a datagram sent to its peer is a packet to read; a packet written to it reaches a socket', () => {
    const seen = inOwnNetwork('tun');
    expect(seen.out).toEqual({ src: seen.local, dst: seen.peer, dport: 9999, data: 'ping' });
    expect(seen.writable).toMatchObject({ writable: true, error: false });
    expect(seen.written).toBe(true);
    expect(seen.in).toEqual({ data: 'pong', address: seen.peer, port: 4242 });
  });
});
