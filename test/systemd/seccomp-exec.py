#!/usr/bin/python3
"""Runs a command under a seccomp filter built as systemd builds SystemCallFilter= with
SystemCallErrorNumber=EPERM: only the system calls named in the file given are allowed, every other
one fails with EPERM. Used by test/systemd/unit.test.ts to run the agent under the unit's filter
(systemd itself is not running on the machines the tests run on).

usage: seccomp-exec.py [--families=AF_INET,AF_UNIX,...] ALLOWED_SYSCALLS_FILE COMMAND [ARG...]

--families: RestrictAddressFamilies= as well: socket() is allowed only for the families named (any
other fails with EPERM; systemd answers EAFNOSUPPORT).
"""
import errno
import os
import socket
import sys

import seccomp

families = None
if sys.argv[1].startswith('--families='):
    families = [getattr(socket, f) for f in sys.argv.pop(1).split('=', 1)[1].split(',') if f]
allowed_file, command = sys.argv[1], sys.argv[2:]
with open(allowed_file, encoding='ascii') as f:
    names = [line.strip() for line in f if line.strip()]
filt = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
unknown = 0
for name in names:
    if families is not None and name == 'socket':
        continue
    try:
        filt.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        unknown += 1  # not a system call of this architecture
if families is not None and 'socket' in names:
    for family in families:
        filt.add_rule(seccomp.ALLOW, 'socket', seccomp.Arg(0, seccomp.EQ, family))
filt.load()
sys.stderr.write(f'seccomp-exec: {len(names) - unknown} system calls allowed, the rest EPERM\n')
os.execvp(command[0], command)
