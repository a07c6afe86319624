import type { Backend } from '@poll/core';
export declare const backend: Backend;
