// Compiled (not run) in a fresh project against the installed tarballs: every public entry
// point type-checks under strict settings.
import { Poller, PollError, createDuplex, createReadStream, createWriteStream, type DuplexOptions, type PollDuplex, type PollEvent, type PollReadStream } from '@poll/poller';
import type { Duplex, Readable, Writable } from 'node:stream';
import { backend } from '@poll/linux/backend';
import loadBackend from '@poll/core/load-backend';

const poller = new Poller({ maxEvents: 64 });
const watch = poller.add(0, { readable: true, edge: true }, (event: PollEvent) => console.log(event.fd, event.hangup), { ref: false });
watch.remove();
const next: Promise<PollEvent> = poller.once(0, { readable: true }, { signal: AbortSignal.timeout(10) });
void next;
{
  using scoped = new Poller();
  console.log(scoped.backend, backend.name, typeof loadBackend, PollError.name);
}
const keys: PollReadStream = createReadStream(0, { recordSize: 24, autoClose: false });
const asReadable: Readable = keys;
const out: Writable = createWriteStream(1, { poller, highWaterMark: 1024 });
const options: DuplexOptions = { allowHalfOpen: true, readableHighWaterMark: 4096, defaultEncoding: 'latin1' };
const port: PollDuplex = createDuplex(2, { ...options, poller }).unref();
const asDuplex: Duplex = poller.createDuplex(3, { autoClose: false }).ref();
port.on('error', (err: Error) => console.error(err));
console.log(keys.bytesRead, asReadable.readable, out.writable, port.bytesRead, port.bytesWritten, asDuplex.writable, keys.unref() === keys);
poller.close();
