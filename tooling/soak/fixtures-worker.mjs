// A worker of the soak's churn: a Poller on a pipe the main thread made (and closes), with its
// watch added and removed over and over (pinning and unpinning its callback), until the main
// thread terminates it mid-way. The poller's own descriptor is the worker's to lose.
import { parentPort, workerData } from 'node:worker_threads';
import { Poller } from '@poll/poller';
import { rawfs } from '@poll/testkit';

const { r, w } = workerData;
const poller = new Poller();
parentPort.postMessage('up');
for (;;) {
  poller.add(r, { readable: true }, () => {});
  rawfs.writeSync(w, 'x');
  await new Promise((resolve) => setImmediate(resolve));
  poller.remove(r);
  rawfs.readSync(r, Buffer.alloc(8));
}
