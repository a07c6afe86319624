# Runs inside gpio-sim (run.sh) and does what a program does to sysfs GPIO files, one step at a
# time, with the system calls themselves (no poll library involved: this checks the simulator).
# Steps come as JSON on argv[1], one result per step is printed as a JSON line:
#   ["write", path, text]        open O_WRONLY, write(2) the text -> {"ok": n} or {"errno": "EINVAL"}
#   ["read", path]               open O_RDONLY, read(2) -> {"ok": text} or {"errno": ...}
#   ["open", name, path, mode]   keep a descriptor ("r", "w", "rw") -> {"ok": fd} or {"errno": ...}
#   ["fdread", name, offset]     pread(2) 64 bytes at offset -> text or errno
#   ["fdwrite", name, text]      pwrite(2) at 0
#   ["poll", name]               poll(2) for POLLPRI with a 0 timeout -> ["PRI", "ERR", ...]
#   ["create", path]             open O_WRONLY|O_CREAT|O_TRUNC (what fs.writeFileSync does)
#   ["ls", path]                 directory entries, sorted
#   ["sleep", ms]
import errno, json, os, select, sys, time

fds = {}
MODES = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR}
FLAGS = [(select.POLLIN, "IN"), (select.POLLPRI, "PRI"), (select.POLLOUT, "OUT"), (select.POLLERR, "ERR"), (select.POLLHUP, "HUP")]


def step(s):
    op = s[0]
    if op == "write":
        fd = os.open(s[1], os.O_WRONLY)
        try:
            return os.write(fd, s[2].encode())
        finally:
            os.close(fd)
    if op == "read":
        fd = os.open(s[1], os.O_RDONLY)
        try:
            return os.read(fd, 4096).decode()
        finally:
            os.close(fd)
    if op == "create":
        os.close(os.open(s[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
        return True
    if op == "open":
        fds[s[1]] = os.open(s[2], MODES[s[3]] | os.O_NONBLOCK)
        return fds[s[1]]
    if op == "fdread":
        return os.pread(fds[s[1]], 64, s[2]).decode()
    if op == "fdwrite":
        return os.pwrite(fds[s[1]], s[2].encode(), 0)
    if op == "poll":
        p = select.poll()
        p.register(fds[s[1]], select.POLLPRI)
        got = p.poll(0)
        mask = got[0][1] if got else 0
        return [name for bit, name in FLAGS if mask & bit]
    if op == "ls":
        return sorted(os.listdir(s[1]))
    if op == "sleep":
        time.sleep(s[1] / 1000)
        return True
    raise ValueError(op)


for s in json.loads(sys.argv[1]):
    try:
        result = {"ok": step(s)}
    except OSError as e:
        result = {"errno": errno.errorcode.get(e.errno, str(e.errno))}
    print(json.dumps(result), flush=True)
