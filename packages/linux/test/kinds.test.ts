// The kinds of descriptor the README names beyond pipes, sockets, ttys and eventfd, each watched
// for real on this kernel: a timerfd, inotify, a netlink socket and a TUN device (the last two
// need root, as a CAN or TUN user's program does). What each one reads is checked too, so an
// event that came for the wrong reason fails.
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from '@poll/linux';
import { closeAll, isOpen, sys } from '@poll/testkit';

const IN_CREATE = 0x100; // <sys/inotify.h>
const RTM_NEWLINK = 16; // <linux/rtnetlink.h>

/** Every read(2) `fd` has now, until EAGAIN. */
function drain(fd: number, size = 65536): Buffer[] {
  const got: Buffer[] = [];
  for (;;) {
    const buffer = Buffer.alloc(size);
    try {
      const n = fs.readSync(fd, buffer);
      if (n === 0) return got;
      got.push(buffer.subarray(0, n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return got;
      throw err;
    }
  }
}

/**
 * A /30 of 198.18.0.0/15, the range set aside for tests (RFC 2544), of this process's own, so
 * that test files running at once never share one and no real network is shadowed.
 */
function subnet(salt: number): { local: string; peer: string } {
  const offset = ((process.pid * 2 + salt) % (1 << 15)) * 4;
  const prefix = `198.${18 + (offset >> 16)}.${(offset >> 8) & 255}`;
  return { local: `${prefix}.${(offset & 255) + 1}`, peer: `${prefix}.${(offset & 255) + 2}` };
}

/** An IPv4 header's fields, or null for another protocol (IPv6 router solicitations and the like). */
function ipv4(packet: Buffer): { protocol: number; src: string; dst: string; payload: Buffer } | null {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return null;
  const ihl = (packet[0]! & 15) * 4;
  const addr = (at: number) => [...packet.subarray(at, at + 4)].join('.');
  return { protocol: packet[9]!, src: addr(12), dst: addr(16), payload: packet.subarray(ihl) };
}

/** An IPv4 UDP packet from `src`:`sport` to `dst`:`dport` (UDP checksum 0: none, as IPv4 allows). */
function udpPacket(src: string, dst: string, sport: number, dport: number, data: Buffer): Buffer {
  const packet = Buffer.alloc(28 + data.length);
  packet[0] = 0x45; // version 4, 20-byte header
  packet.writeUInt16BE(packet.length, 2);
  packet[8] = 64; // TTL
  packet[9] = 17; // UDP
  src.split('.').forEach((b, i) => (packet[12 + i] = Number(b)));
  dst.split('.').forEach((b, i) => (packet[16 + i] = Number(b)));
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += packet.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  packet.writeUInt16BE(~sum & 0xffff, 10);
  packet.writeUInt16BE(sport, 20);
  packet.writeUInt16BE(dport, 22);
  packet.writeUInt16BE(8 + data.length, 24);
  data.copy(packet, 28);
  return packet;
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
    expect(drain(fd)).toEqual([]); // not expired: EAGAIN
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

  it('a netlink route socket is readable when a link appears, and what it reads is RTM_NEWLINK for that link', async () => {
    const nl = sys.netlinkLinks();
    open.push(nl);
    const p = poller();
    const ready = p.once(nl, { readable: true });
    const { local } = subnet(0);
    const [tun, name] = sys.tun(local);
    open.push(tun);
    expect(await ready).toMatchObject({ fd: nl, readable: true });
    const types: number[] = [];
    const names: string[] = [];
    for (const buffer of drain(nl)) {
      // struct nlmsghdr (len, type, flags, seq, pid), then struct ifinfomsg (16 bytes), then attributes.
      for (let at = 0; at + 16 <= buffer.length; at += (buffer.readUInt32LE(at) + 3) & ~3) {
        if (buffer.readUInt32LE(at) < 16) break;
        const type = buffer.readUInt16LE(at + 4);
        types.push(type);
        if (type !== RTM_NEWLINK) continue;
        const end = at + buffer.readUInt32LE(at);
        for (let a = at + 32; a + 4 <= end; a += (buffer.readUInt16LE(a) + 3) & ~3) {
          const length = buffer.readUInt16LE(a);
          if (length < 4) break;
          if (buffer.readUInt16LE(a + 2) === 3 /* IFLA_IFNAME */) names.push(buffer.subarray(a + 4, a + length).toString().replace(/\0+$/, ''));
        }
      }
    }
    expect(types).toContain(RTM_NEWLINK);
    expect(names).toContain(name);
  });

  it('a TUN device: a datagram sent to its peer is a packet to read; a packet written to it reaches a socket', async () => {
    const { local, peer } = subnet(1);
    const [tun] = sys.tun(local);
    open.push(tun);
    const p = poller();
    // Outbound: the kernel routes a datagram for the peer into the device.
    const packets: Buffer[] = [];
    const arrived = new Promise<void>((resolve) => {
      p.add(tun, { readable: true }, () => {
        for (const packet of drain(tun)) {
          packets.push(packet);
          const ip = ipv4(packet);
          if (ip?.protocol === 17 && ip.dst === peer && ip.payload.subarray(8).toString() === 'ping') resolve();
        }
      });
    });
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve) => socket.bind(0, local, resolve));
      socket.send('ping', 9999, peer);
      await arrived;
      const out = packets.map(ipv4).find((ip) => ip?.dst === peer)!;
      expect(out.src).toBe(local);
      expect(out.payload.readUInt16BE(2)).toBe(9999);
      // Inbound: a packet written to the device arrives at the socket as if the peer had sent it.
      p.remove(tun);
      expect(await p.once(tun, { writable: true })).toMatchObject({ fd: tun, writable: true });
      const message = once(socket, 'message');
      const packet = udpPacket(peer, local, 4242, socket.address().port, Buffer.from('pong'));
      expect(fs.writeSync(tun, packet)).toBe(packet.length);
      const [data, rinfo] = (await message) as [Buffer, dgram.RemoteInfo];
      expect(data.toString()).toBe('pong');
      expect(rinfo).toMatchObject({ address: peer, port: 4242 });
    } finally {
      socket.close();
    }
  });
});
