import type { Backend, LoopName } from '@poll/core';
export declare const backend: Backend;
/** The same backend on each loop this runtime can run (`backend` is one of them). */
export declare const loops: Readonly<Partial<Record<LoopName, Backend>>>;
