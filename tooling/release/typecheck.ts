// Compiled (not run) in a fresh project against the installed tarballs: every public entry
// point type-checks under strict settings.
import { Poller, PollError, LIBRARY_ERROR_CODES, createDuplex, createReadStream, createWriteStream, type DuplexOptions, type EndReason, type LibraryErrorCode, type PollDuplex, type PollEvent, type PollReadStream } from '@poll/poller';
import type { Duplex, Readable, Writable } from 'node:stream';
import { backend } from '@poll/linux/backend';
import loadBackend from '@poll/core/load-backend';

const poller = new Poller({ maxEvents: 64 });
const onEnd = (reason: EndReason): void => {
  const code: 'ERR_POLL_CLOSED' | 'ERR_POLL_NOT_WATCHED' = reason.code;
  const known: LibraryErrorCode = code;
  console.log(known, LIBRARY_ERROR_CODES.includes(known), reason.message);
};
const watch = poller.add(0, { readable: true, edge: true }, (event: PollEvent) => console.log(event.fd, event.hangup), { ref: false, onEnd });
poller.add(1, { writable: true }, () => {}, { onEnd: (err: Error) => console.error(err) }); // a plain Error handler still fits
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
const text: PollReadStream = poller.createReadStream(4, 'utf8'); // a string is the encoding, as for fs streams
const hex: Writable = createWriteStream(5, 'hex');
console.log(text.readableEncoding, hex.writable);
const options: DuplexOptions = { allowHalfOpen: true, readableHighWaterMark: 4096, defaultEncoding: 'latin1' };
const port: PollDuplex = createDuplex(2, { ...options, poller }).unref();
const asDuplex: Duplex = poller.createDuplex(3, { autoClose: false }).ref();
port.on('error', (err: Error) => console.error(err));
console.log(keys.bytesRead, asReadable.readable, out.writable, port.bytesRead, port.bytesWritten, asDuplex.writable, keys.unref() === keys);
poller.close();
