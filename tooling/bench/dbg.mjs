import { Poller } from '@poll/poller';
import { sys, fdTarget } from '@poll/testkit';
const p = new Poller();
console.log('poller fd', p.fd);
const [s] = sys.pipe();
for (let i = 0; i < 10; i++) {
  const d = sys.dup(s);
  try { p.add(d, { readable: true }, () => {}); } catch (e) { console.log('fail at', i, d, e.code, fdTarget(d)); break; }
}
console.log('size', p.size);
