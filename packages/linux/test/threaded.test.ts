// The behaviour suite through the waiter-thread loop integration that @poll/bsd uses, here on
// epoll: the thread hand-off, dispatch-before-rewait and shutdown run on a real kernel.
import { behaviourSuite, targetFor } from '@poll/behaviour';

behaviourSuite(await targetFor('epoll behind a waiter thread (the kqueue loop integration)', '@poll/testkit/threaded', import.meta.url));
