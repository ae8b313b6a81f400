#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one hotplug-ci cell on a bare qemu-system-x86_64, without libvirt.

The QEMU command line is the one libvirt used for a harness cell, read from
that cell's qemu.log, with libvirt's private plumbing (passed file
descriptors, the master-key secret) replaced by plain files and sockets in
WORKDIR.  The steps are the harness's plug-each cell (harness/cell-run.c):

  copy the NVRAM template, create a qcow2 overlay of the image
  start QEMU (paused, like libvirt), QMP capabilities, connect the agent, cont
  wait for HPCI-READY on serial
  device_add the first free CPU slot (query-hotpluggable-cpus), like
    virsh setvcpus; wait for HPCI-CPU-ADDED <n>
  online guest CPU n through the agent (guest-get-vcpus + guest-set-vcpus,
    what virDomainSetGuestVcpus does); wait for HPCI-CPU-ONLINE <n>
  quit over QMP and wait for QEMU to exit

Prints one line: wall_ms=.. boot_ms=.. plug_ms=.. online_ms=..
(boot from cont to HPCI-READY; plug from device_add to HPCI-CPU-ADDED;
online from the agent request to HPCI-CPU-ONLINE; wall from the first file
copy to QEMU's exit).  Exits 1 with a message on stderr when a step fails.
Python standard library only.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET


class BenchError(Exception):
    pass


def now_ms():
    return time.monotonic() * 1000.0


# ---------------------------------------------------------------- command line

def read_cmdline(qemu_log):
    """The last command line libvirt logged: the backslash-continued block
    after the last 'starting up' line."""
    with open(qemu_log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    starts = [i for i, l in enumerate(lines) if ": starting up " in l]
    if not starts:
        raise BenchError(f"{qemu_log}: no 'starting up' line; not a libvirt QEMU log")
    block = []
    for l in lines[starts[-1] + 1:]:
        if l.endswith("\\"):
            block.append(l[:-1])
        else:
            block.append(l)
            break
    argv = shlex.split(" ".join(block))
    while argv and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
        argv.pop(0)  # LC_ALL=C PATH=... HOME=...
    if not argv or not argv[0].endswith("qemu-system-x86_64"):
        raise BenchError(f"{qemu_log}: cannot find the qemu-system-x86_64 command line")
    return argv


def split_opts(value):
    """QEMU option string -> list of 'k=v' parts (',,' is an escaped comma)."""
    parts, cur, i = [], "", 0
    while i < len(value):
        c = value[i]
        if c == ",":
            if value[i + 1:i + 2] == ",":
                cur += ","
                i += 2
                continue
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def join_opts(parts):
    return ",".join(p.replace(",", ",,") for p in parts)


class Plan:
    pass


def make_plan(qemu_log, workdir):
    """Rewrites libvirt's command line for a bare run in workdir."""
    argv = read_cmdline(qemu_log)
    celldir = os.path.dirname(os.path.abspath(qemu_log))
    plan = Plan()
    plan.emulator = argv[0]
    plan.nvram_template = None
    plan.overlay = None          # (overlay path, backing path)
    plan.nvram = None
    plan.monitor = plan.serial = plan.agent = None

    def local(path):
        if os.path.dirname(os.path.abspath(path)) == celldir:
            return os.path.join(workdir, os.path.basename(path))
        return path

    # First pass: block nodes, to find the overlay's backing file.
    nodes = {}
    for i, a in enumerate(argv[:-1]):
        if a == "-blockdev" and argv[i + 1].startswith("{"):
            d = json.loads(argv[i + 1])
            nodes[d.get("node-name")] = d
    chardev_of = {}  # device role -> chardev id
    mon_chardev = None
    for i, a in enumerate(argv[:-1]):
        v = argv[i + 1]
        if a == "-device" and v.startswith("{"):
            d = json.loads(v)
            if d.get("driver") == "isa-serial" and d.get("index", 0) == 0:
                chardev_of["serial"] = d.get("chardev")
            elif d.get("driver") == "virtserialport" and d.get("name") == "org.qemu.guest_agent.0":
                chardev_of["agent"] = d.get("chardev")
        elif a == "-mon":
            o = dict(p.split("=", 1) for p in split_opts(v) if "=" in p)
            if o.get("mode") == "control":
                mon_chardev = o.get("chardev")
    chardev_of["monitor"] = mon_chardev
    for role in ("serial", "agent", "monitor"):
        if not chardev_of.get(role):
            raise BenchError(f"{qemu_log}: no {role} chardev in the command line")

    out = [argv[0]]
    i = 1
    while i < len(argv):
        a = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if a == "-add-fd":
            i += 2
            continue
        if a == "-object" and v and v.startswith("{") and json.loads(v).get("qom-type") == "secret":
            i += 2  # libvirt's master key: its file is gone with the domain
            continue
        if a == "-name":
            out += [a, "guest=hpci-bench-bare,debug-threads=on"]
            i += 2
            continue
        if a == "-blockdev" and v and v.startswith("{"):
            d = json.loads(v)
            fn = d.get("filename")
            if fn:
                newfn = local(fn)
                if newfn != fn:
                    base = os.path.basename(fn)
                    d["filename"] = newfn
                    fmt = next((n for n in nodes.values() if n.get("file") == d.get("node-name")), None)
                    if fmt and fmt.get("driver") == "qcow2" and fmt.get("backing"):
                        back = nodes.get(fmt["backing"], {})
                        back_file = nodes.get(back.get("file"), {}).get("filename")
                        if not back_file:
                            raise BenchError(f"{qemu_log}: cannot find the backing file of {fn}")
                        plan.overlay = (newfn, back_file)
                    elif fmt and fmt.get("driver") == "raw":
                        plan.nvram = newfn
                    else:
                        raise BenchError(f"{qemu_log}: do not know how to recreate {base}")
                v = json.dumps(d, separators=(",", ":"))
            out += [a, v]
            i += 2
            continue
        if a == "-chardev" and v:
            parts = split_opts(v)
            backend = parts[0]
            kv = [p.split("=", 1) for p in parts[1:]]
            cid = next((x[1] for x in kv if x[0] == "id"), None)
            new = [backend]
            for x in kv:
                k = x[0]
                if k == "fd" and backend == "socket":
                    sock = os.path.join(workdir, f"{cid}.sock")
                    new.append(f"path={sock}")
                    if cid == chardev_of["monitor"]:
                        plan.monitor = sock
                    elif cid == chardev_of["agent"]:
                        plan.agent = sock
                elif k == "path" and backend == "file":
                    p = x[1]
                    p = os.path.join(workdir, f"{cid}.log") if p.startswith("/dev/fdset/") else local(p)
                    new.append(f"path={p}")
                    if cid == chardev_of["serial"]:
                        plan.serial = p
                elif k == "append" and cid == chardev_of["serial"]:
                    new.append("append=off")
                else:
                    new.append("=".join(x))
            out += [a, join_opts(new)]
            i += 2
            continue
        out.append(a)
        i += 1
    for what in ("monitor", "serial", "agent", "overlay", "nvram"):
        if getattr(plan, what) is None:
            raise BenchError(f"{qemu_log}: could not rewrite the {what} of the command line")

    # The NVRAM template is in the domain XML next to qemu.log.
    xml = os.path.join(celldir, "domain.xml")
    try:
        nv = ET.parse(xml).getroot().find("./os/nvram")
        plan.nvram_template = nv.get("template") if nv is not None else None
    except (OSError, ET.ParseError) as e:
        raise BenchError(f"{xml}: {e}")
    if not plan.nvram_template:
        raise BenchError(f"{xml}: no <nvram template=...>")
    plan.argv = out
    return plan


# ---------------------------------------------------------------- QMP and agent

class JsonChannel:
    def __init__(self, path, deadline_s, name):
        self.name = name
        self.buf = b""
        end = time.monotonic() + deadline_s
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > end:
                    raise BenchError(f"cannot connect to the {name} socket {path}")
                time.sleep(0.02)

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self, timeout_s):
        """One JSON object (a line; 0xff sync bytes are dropped)."""
        end = time.monotonic() + timeout_s
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise BenchError(f"no answer from the {self.name} within {timeout_s:.0f} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise BenchError(f"the {self.name} closed its socket")
            self.buf += chunk.replace(b"\xff", b"")
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.strip()
        if not line:
            return self.recv(max(0.0, end - time.monotonic()))
        return json.loads(line)

    def command(self, execute, arguments=None, timeout_s=30, match=None):
        msg = {"execute": execute}
        if arguments is not None:
            msg["arguments"] = arguments
        self.send(msg)
        end = time.monotonic() + timeout_s
        while True:
            r = self.recv(max(0.01, end - time.monotonic()))
            if "event" in r or "QMP" in r:
                continue
            if match is not None and not match(r):
                continue
            if "error" in r:
                raise BenchError(f"{self.name}: {execute}: {r['error'].get('desc', r['error'])}")
            return r.get("return")

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- serial

class Serial:
    def __init__(self, path, timeline=None):
        self.path = path
        self.timeline = timeline  # (file, t0_ms): "<ms since t0> <line>" per serial line
        self.f = None
        self.buf = b""
        self.lines = []

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb")
            except FileNotFoundError:
                return
        data = self.f.read()
        if data:
            self.buf += data
            *done, self.buf = self.buf.split(b"\n")
            for l in done:
                line = l.decode("utf-8", "replace").rstrip("\r")
                self.lines.append(line)
                if self.timeline:
                    f, t0 = self.timeline
                    f.write(f"{now_ms() - t0:8.0f} {line}\n")

    def wait(self, pred, timeout_s, what, qemu):
        """Waits for a serial line for which pred(line) is true."""
        end = time.monotonic() + timeout_s
        seen = 0
        while True:
            self.poll()
            while seen < len(self.lines):
                l = self.lines[seen]
                seen += 1
                if pred(l):
                    return l
                if "Kernel panic - not syncing" in l:
                    raise BenchError(f"guest panicked while waiting for {what}: {l.strip()}")
            if qemu.poll() is not None:
                raise BenchError(f"QEMU exited (status {qemu.returncode}) while waiting for {what}")
            if time.monotonic() > end:
                raise BenchError(f"no {what} on the guest's serial within {timeout_s:.0f} s")
            time.sleep(0.01)


# ---------------------------------------------------------------- the cell

def run(args):
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    plan = make_plan(args.qemu_log, workdir)
    qemu = None
    stderr = open(os.path.join(workdir, "qemu.stderr"), "wb")
    try:
        t0 = now_ms()
        shutil.copyfile(plan.nvram_template, plan.nvram)
        overlay, backing = plan.overlay
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2",
                        overlay], check=True, stdout=subprocess.DEVNULL)
        open(plan.serial, "wb").close()
        with open(os.path.join(workdir, "cmdline"), "w") as f:
            f.write(shlex.join(plan.argv) + "\n")
        qemu = subprocess.Popen(plan.argv, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                                cwd=workdir)
        if args.pidfile:
            with open(args.pidfile, "w") as f:
                f.write(f"{qemu.pid}\n")
        try:
            qmp = JsonChannel(plan.monitor, 30, "QMP monitor")
        except BenchError:
            if qemu.poll() is not None:
                raise BenchError(f"QEMU exited at start (status {qemu.returncode}): "
                                 + tail(os.path.join(workdir, "qemu.stderr")))
            raise
        qmp.recv(30)  # greeting
        qmp.command("qmp_capabilities")
        agent = JsonChannel(plan.agent, 30, "guest agent")
        status = qmp.command("query-status")
        t_resume = now_ms()
        timeline = open(os.path.join(workdir, "timeline.log"), "w")
        serial = Serial(plan.serial, (timeline, t_resume))
        if status.get("status") == "prelaunch":
            qmp.command("cont")

        serial.wait(lambda l: l in ("HPCI-READY",), args.ready_timeout, "ready line (HPCI-READY)", qemu)
        t_ready = now_ms()

        slots = qmp.command("query-hotpluggable-cpus")
        free = [s for s in slots if "qom-path" not in s]
        if not free:
            raise BenchError("no free CPU slot in query-hotpluggable-cpus")
        key = ("socket-id", "die-id", "core-id", "thread-id")
        free.sort(key=lambda s: tuple(s["props"].get(k, 0) for k in key))
        slot = free[0]
        dev = {"driver": slot["type"], "id": "vcpu-bench"}
        dev.update({k: v for k, v in slot["props"].items() if k != "node-id"})
        t_plug = now_ms()
        qmp.command("device_add", dev, timeout_s=args.plug_timeout)
        added = serial.wait(lambda l: re.fullmatch(r"HPCI-CPU-ADDED \d+", l) is not None,
                            args.plug_timeout, "hot-added CPU (HPCI-CPU-ADDED)", qemu)
        t_added = now_ms()
        cpu = int(added.split()[1])

        # virDomainSetGuestVcpus: sync, read the guest's vCPUs, set the one.
        sync_id = int(time.time() * 1000) & 0x7FFFFFFF
        agent.command("guest-sync-delimited", {"id": sync_id}, timeout_s=args.online_timeout,
                      match=lambda r: r.get("return") == sync_id or "error" in r)
        vcpus = agent.command("guest-get-vcpus", timeout_s=args.online_timeout)
        if not any(v.get("logical-id") == cpu for v in vcpus):
            raise BenchError(f"the guest agent does not list CPU {cpu}")
        t_online_req = now_ms()
        agent.command("guest-set-vcpus", {"vcpus": [{"logical-id": cpu, "online": True}]},
                      timeout_s=args.online_timeout)
        serial.wait(lambda l: l == f"HPCI-CPU-ONLINE {cpu}", args.online_timeout,
                    f"online CPU (HPCI-CPU-ONLINE {cpu})", qemu)
        t_online = now_ms()

        agent.close()
        try:
            qmp.command("quit", timeout_s=10)
        except BenchError:
            pass  # QEMU may close the socket before answering
        try:
            qemu.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise BenchError("QEMU did not exit within 30 s of quit")
        t_end = now_ms()
        print(f"wall_ms={t_end - t0:.0f} boot_ms={t_ready - t_resume:.0f} "
              f"plug_ms={t_added - t_plug:.0f} online_ms={t_online - t_online_req:.0f}")
    finally:
        if qemu is not None and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        stderr.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass


def tail(path, n=5):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return ""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--qemu-log", required=True, help="qemu.log of a harness cell (libvirt's log)")
    p.add_argument("--workdir", required=True, help="directory for the overlay, NVRAM, sockets, logs")
    p.add_argument("--pidfile", help="write QEMU's PID here while it runs")
    p.add_argument("--ready-timeout", type=float, default=180)
    p.add_argument("--plug-timeout", type=float, default=60)
    p.add_argument("--online-timeout", type=float, default=60)
    p.add_argument("--print-cmdline", action="store_true", help="print the rewritten command line and exit")
    args = p.parse_args()
    # SIGTERM from run-bench's trap: unwind through finally (kills QEMU).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # A shell starts background jobs with SIGINT ignored; Ctrl-C must still
    # stop this process (and with it QEMU).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.print_cmdline:
            print(shlex.join(make_plan(args.qemu_log, os.path.abspath(args.workdir)).argv))
            return 0
        run(args)
    except BenchError as e:
        print(f"bare-cell: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bare-cell: interrupted", file=sys.stderr)
        return 130
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError) as e:
        print(f"bare-cell: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
