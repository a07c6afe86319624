// Compiled (not run) in a fresh project against the installed tarballs: every public entry
// point type-checks under strict settings.
import { Poller, PollError, type PollEvent } from '@poll/poller';
import { backend } from '@poll/linux/backend';
import loadBackend from '@poll/core/load-backend';

const poller = new Poller({ maxEvents: 64 });
const watch = poller.add(0, { readable: true, edge: true }, (event: PollEvent) => console.log(event.fd, event.hangup));
watch.remove();
const next: Promise<PollEvent> = poller.once(0, { readable: true }, { signal: AbortSignal.timeout(10) });
void next;
{
  using scoped = new Poller();
  console.log(scoped.backend, backend.name, typeof loadBackend, PollError.name);
}
poller.close();
