// The other process of the latency scenario: writes `n` single bytes to fd 3, 1 ms apart (each
// its own event), and prints the monotonic time taken just before each write.
import fs from 'node:fs';

const n = Number(process.argv[2]);
const pause = new Int32Array(new SharedArrayBuffer(4));
const one = Buffer.from('x');
const sent = [];
for (let i = 0; i < n; i++) {
  Atomics.wait(pause, 0, 0, 1); // sleep 1 ms without an event loop turn
  sent.push(String(process.hrtime.bigint()));
  fs.writeSync(3, one);
}
fs.closeSync(3);
console.log(JSON.stringify(sent));
