// The behaviour suite against whichever backend @poll/poller picks on this platform: epoll on
// Linux, kqueue on macOS and the BSDs. The same checks, unchanged, everywhere.
import { behaviourSuite, targetFor } from '@poll/behaviour';
import { backend } from '@poll/poller';

behaviourSuite(await targetFor(`${backend.name} via @poll/poller`, '@poll/poller', import.meta.url));
