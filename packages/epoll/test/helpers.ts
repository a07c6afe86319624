import { spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Runs a command to its end and returns what it printed; `input` is written to its stdin (then closed). */
export function capture(cmd: string, args: string[], options: SpawnOptions & { input?: string } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { timeout: 60000, ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/**
 * A broken drop-in for the GPIO tests' negative controls, written into `dir`: @poll/epoll (at
 * `ours`) but watching EPOLLIN where EPOLLPRI is asked. sysfs value files are always readable,
 * so it reports on every turn, not on the edges.
 */
export function brokenDropIn(dir: string, ours: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'index.js'),
    `const { Epoll } = require(${JSON.stringify(ours)});\n` +
      'class Broken extends Epoll { add(fd, events) { return super.add(fd, events & Epoll.EPOLLPRI ? Epoll.EPOLLIN : events); } }\n' +
      'module.exports = { Epoll: Broken };\n',
  );
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'epoll', main: 'index.js' }));
  return dir;
}
