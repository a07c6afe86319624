import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** `run.sh [--wire OUT:IN]... -- command...`: runs a command where /sys/class/gpio is simulated. */
export const runInSim = path.join(here, 'run.sh');
