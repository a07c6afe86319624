// Every prebuilt binary a release ships: where it goes in which package, and how it is made.
// File names follow prebuildify's convention so that node-gyp-build picks them: the libc tag
// keeps glibc binaries off musl (Alpine), where the loader then asks for a source build; the
// armv tag keeps the armv7 binary off armv6 (Raspberry Pi Zero / 1).
//
// glibc 2.17 is the oldest zig 0.11 links against; Node 20 itself needs 2.28, so every glibc
// a Node 20+ runs on can load these.
export const TARGETS = [
  { pkg: 'linux', tuple: 'linux-x64', file: 'node.napi.glibc.node', zig: ['-target', 'x86_64-linux-gnu.2.17'], machine: 'x86_64' },
  { pkg: 'linux', tuple: 'linux-arm64', file: 'node.napi.glibc.node', zig: ['-target', 'aarch64-linux-gnu.2.17'], machine: 'aarch64' },
  {
    pkg: 'linux',
    tuple: 'linux-arm',
    file: 'node.napi.armv7.glibc.node',
    // armv7-a with VFPv3-D16, hard float: what Node's own armv7l build (and Raspberry Pi OS) needs.
    zig: ['-target', 'arm-linux-gnueabihf.2.17', '-mcpu=generic+v7a+vfp3d16'],
    machine: 'arm',
  },
  // macOS 11.0, the oldest zig 0.11's libc++ headers build for (10.15 fails in <iosfwd>); Node 22
  // and 24 need 11 anyway, Node 20 on x64 would run on 10.15.
  { pkg: 'bsd', tuple: 'darwin-x64', file: 'node.napi.node', zig: ['-target', 'x86_64-macos.11.0'], machine: 'x86_64-macho' },
  { pkg: 'bsd', tuple: 'darwin-arm64', file: 'node.napi.node', zig: ['-target', 'aarch64-macos.11.0'], machine: 'aarch64-macho' },
  // zig 0.11 has no FreeBSD libc: the FreeBSD release job builds this one natively (FreeBSD 14,
  // so it needs kqueuex; FreeBSD 13 builds from source).
  { pkg: 'bsd', tuple: 'freebsd-x64', file: 'node.napi.node', zig: null, machine: 'x86_64-freebsd' },
];

export const prebuildPath = (t) => `packages/${t.pkg}/prebuilds/${t.tuple}/${t.file}`;
