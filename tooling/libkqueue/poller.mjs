// @poll/bsd's kqueue backend on libkqueue, as a module the behaviour suite can import, in
// workers too.
import { harnessBackend } from './load.mjs';

export const { backend, loops, Poller } = harnessBackend('poll_bsd.node', 'on libkqueue');
