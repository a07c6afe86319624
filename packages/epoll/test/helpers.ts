import { spawn, type SpawnOptions } from 'node:child_process';

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
