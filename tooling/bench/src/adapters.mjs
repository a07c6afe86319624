// The implementations under test, behind one small interface so every scenario runs the same
// code on each: watch(fd, onReady) -> handle, unwatch(handle), close(), consume(fd).
// consume() is the shared descriptor I/O (one read(2) through the same native helper); for
// net.Socket, libuv has already read the data when 'data' fires, so there is nothing left to do.
import net from 'node:net';
import { createRequire } from 'node:module';
import { pollerClass } from '@poll/core';
import { sys } from '@poll/testkit';

const require = createRequire(import.meta.url);

/** A Poller on @poll/linux's epoll driven by one of the loops its addon offers: 'uv', 'thread', 'napi'. */
export const pollerOn = (loop) => pollerClass(require('@poll/linux/backend').loops[loop]);

function pollAdapter(Poller) {
  const poller = new Poller();
  return {
    watch: (fd, onReady) => poller.add(fd, { readable: true }, onReady),
    unwatch: (watch) => watch.remove(),
    consume: (fd) => sys.readByte(fd),
    close: () => poller.close(),
    canChurn: true,
  };
}

// The epoll package's API: one callback per event, (err, fd, events), dispatched by fd here as
// its users do.
function epollAdapter(Epoll) {
  const handlers = new Map();
  const epoll = new Epoll((err, fd) => {
    if (err) throw err;
    handlers.get(fd)?.();
  });
  return {
    watch: (fd, onReady) => {
      handlers.set(fd, onReady);
      epoll.add(fd, Epoll.EPOLLIN);
      return fd;
    },
    unwatch: (fd) => {
      epoll.remove(fd);
      handlers.delete(fd);
    },
    consume: (fd) => sys.readByte(fd),
    close: () => epoll.close(),
    canChurn: true,
  };
}

export async function adapter(name) {
  switch (name) {
    case 'poll':
      return pollAdapter((await import('@poll/poller')).Poller);
    case 'thread':
      // poll's waiter-thread loop (what @poll/bsd runs on macOS and the BSDs), here with epoll
      // behind it, so it can be measured side by side with the uv_poll loop.
      return pollAdapter(pollerOn('thread'));
    case 'napi':
      // poll's loop for runtimes without libuv (a waiter thread handing batches over through a
      // Node-API threadsafe function), here on Node beside the uv_poll loop.
      return pollAdapter(pollerOn('napi'));
    case 'epoll':
      return epollAdapter(require('epoll').Epoll);
    case 'dropin':
      // @poll/epoll: the epoll package's API on poll, as its users would run it after the alias.
      return epollAdapter(require('@poll/epoll').Epoll);
    case 'net': {
      // Node's own streams on the same pipes: libuv polls and reads.
      const sockets = [];
      return {
        watch: (fd, onReady) => {
          const socket = new net.Socket({ fd, readable: true, writable: false });
          socket.on('data', (chunk) => {
            for (let i = 0; i < chunk.length; i++) onReady();
          });
          sockets.push(socket);
          return socket;
        },
        unwatch: () => {
          throw new Error('net.Socket cannot let go of a descriptor without closing it');
        },
        consume: () => 1,
        close: () => {
          for (const s of sockets) s.destroy();
        },
        // Churn needs detaching a descriptor and watching it again; a socket owns and closes it.
        canChurn: false,
      };
    }
    default:
      throw new Error(`unknown implementation ${name}`);
  }
}
