#!/usr/bin/python3
"""Runs a command under a seccomp filter built as systemd builds SystemCallFilter= with
SystemCallErrorNumber=EPERM: only the system calls named in the file given are allowed, every other
one fails with EPERM. Used by test/systemd/unit.test.ts to run the agent under the unit's filter
(systemd itself is not running on the machines the tests run on).

usage: seccomp-exec.py ALLOWED_SYSCALLS_FILE COMMAND [ARG...]
"""
import errno
import os
import sys

import seccomp

allowed_file, command = sys.argv[1], sys.argv[2:]
with open(allowed_file, encoding='ascii') as f:
    names = [line.strip() for line in f if line.strip()]
filt = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
unknown = 0
for name in names:
    try:
        filt.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        unknown += 1  # not a system call of this architecture
filt.load()
sys.stderr.write(f'seccomp-exec: {len(names) - unknown} system calls allowed, the rest EPERM\n')
os.execvp(command[0], command)
