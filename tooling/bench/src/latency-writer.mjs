// The other process of the latency scenario: writes `n` single bytes to fd 3, 1 ms apart (each
// its own event), and prints the time taken just before each write. The clock is the kernel's
// CLOCK_MONOTONIC read through the test kit, the one the reader reads too, whatever runtime
// either of them runs on (Bun's and Deno's process.hrtime count from elsewhere).
import fs from 'node:fs';
import { sys } from '@poll/testkit';

const n = Number(process.argv[2]);
const pause = new Int32Array(new SharedArrayBuffer(4));
const one = Buffer.from('x');
const sent = [];
for (let i = 0; i < n; i++) {
  Atomics.wait(pause, 0, 0, 1); // sleep 1 ms without an event loop turn
  sent.push(String(sys.monotonicNs()));
  fs.writeSync(3, one);
}
fs.closeSync(3);
console.log(JSON.stringify(sent));
