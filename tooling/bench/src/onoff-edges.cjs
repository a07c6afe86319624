// The gpio scenario: GPIO interrupts per second through onoff, on gpio-sim's simulated pins,
// with whichever `epoll` this project installed (ours or the original). GPIO27 (an output) is
// wired to GPIO4 (an input, both edges); each interrupt is answered by the next flip, so one
// lost edge stalls the run (and the bench's deadline fails it).
//   node onoff-edges.cjs <budget ms>
const { Gpio } = require('onoff');

const budgetMs = Number(process.argv[2]);
const button = new Gpio(4, 'in', 'both');
const finger = new Gpio(27, 'out');
let count = 0;
let wrong = 0;
const started = process.hrtime.bigint();
button.watch((err, value) => {
  if (err) throw err;
  if (value !== (count + 1) % 2) wrong++;
  count++;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (ms < budgetMs) return finger.writeSync((count + 1) % 2);
  button.unexport();
  finger.unexport();
  // An edge with the wrong value counts as spurious: the bench refuses the run.
  console.log(JSON.stringify({ ops: count, rate: count / (ms / 1000), delivered: count, expected: count, spurious: wrong }));
});
finger.writeSync(1);
