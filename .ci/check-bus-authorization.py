#!/usr/bin/env python3
"""The bus authorization the NixOS module renders, tried on a real nats-server.

Renders `services.nats.settings` of a server configuration with authorization on (the test
identities of integration-tests/nixos/test-nkeys.nix), starts nats-server with it on a free
port, and speaks the NATS client protocol to it: an anonymous client and a wrong key are
refused; a host may publish its own events, pull from its own consumer and answer its own
control subjects, and nothing of another host's, no canonical state (`$KV`) and no reconciler
control; the server identity may do everything.

Usage: check-bus-authorization.py NIX_INSTANTIATE NIXPKGS_LIB REPO_ROOT
Exit: 0 all hold, 1 a check failed, 2 cannot run here (no nats-server or no `cryptography`).
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:
    Ed25519PrivateKey = None


def crc16(data):
    """CRC-16/XMODEM, the checksum of NKey strings."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def sign(seed, nonce):
    """The CONNECT signature of a server nonce with an NKey user seed ("SU...")."""
    raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
    body, crc = raw[:-2], struct.unpack("<H", raw[-2:])[0]
    if crc16(body) != crc:
        raise ValueError("bad seed checksum")
    key = Ed25519PrivateKey.from_private_bytes(body[2:34])
    return base64.urlsafe_b64encode(key.sign(nonce.encode())).decode().rstrip("=")


def session(port, identity=None, ops=()):
    """Connects, sends the protocol lines `ops`, then PING; returns the server's lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        f = s.makefile("rb")
        info = json.loads(f.readline().decode().split(" ", 1)[1])
        connect = {"verbose": False, "pedantic": False, "protocol": 1}
        if identity:
            connect["nkey"] = identity["publicKey"]
            connect["sig"] = sign(identity["seed"], info["nonce"])
        s.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")
        for op in ops:
            s.sendall(op.encode() + b"\r\n")
        s.sendall(b"PING\r\n")
        lines = []
        while True:
            line = f.readline().decode().strip()
            if not line:
                return lines
            lines.append(line)
            if line == "PONG" or "Authorization Violation" in line:
                return lines


def pub(subject):
    return f"PUB {subject} 2\r\nhi"


def render(nix_instantiate, nixpkgs_lib, root, keys):
    expr = f"""
let
  lib = import {nixpkgs_lib}/lib;
  root = {root};
  keys = import (root + "/integration-tests/nixos/test-nkeys.nix");
  e = import (root + "/.ci/nix/stub-nixos.nix") {{ inherit lib root; }} [
    {{
      services.vikunja-sync = {{
        enable = true;
        bus.credentialsFile = "/run/secrets/server.nk";
        server = {{
          enable = true;
          nats = {{
            enable = true;
            openFirewall = true;
            authorization = {{
              enable = true;
              serverKey = keys.server.publicKey;
              hosts.laptop-alice.publicKey = keys.laptop-alice.publicKey;
              hosts.desk-alice.publicKey = keys.desk-alice.publicKey;
            }};
          }};
        }};
      }};
    }}
  ];
in
e.config.services.nats.settings
"""
    out = subprocess.run(
        [nix_instantiate, "--eval", "--strict", "--json", "--expr", expr],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    nix_instantiate, nixpkgs_lib, root = sys.argv[1:4]
    server_bin = os.environ.get("NATS_SERVER_BIN") or shutil.which("nats-server")
    if not server_bin or Ed25519PrivateKey is None:
        print("cannot run: needs nats-server on PATH and python3-cryptography")
        return 2
    keys = json.loads(subprocess.run(
        [nix_instantiate, "--eval", "--strict", "--json",
         os.path.join(root, "integration-tests/nixos/test-nkeys.nix")],
        check=True, capture_output=True, text=True).stdout)
    settings = render(nix_instantiate, nixpkgs_lib, root, keys)

    laptop, desk, server = keys["laptop-alice"], keys["desk-alice"], keys["server"]
    refused = lambda lines: any("Authorization Violation" in l for l in lines)
    allowed = lambda lines: lines == ["PONG"]
    violated = lambda lines: any("Permissions Violation" in l for l in lines)
    checks = [
        ("the rendered config listens on every address (opened)", lambda p: settings.get("host") == "0.0.0.0"),
        ("an anonymous client is refused", lambda p: refused(session(p))),
        ("a key the bus does not know is refused",
         lambda p: refused(session(p, {"seed": laptop["seed"], "publicKey": desk["publicKey"]}))),
        ("a host publishes its own events",
         lambda p: allowed(session(p, laptop, [pub("vsync.v1.in.tw.laptop-alice.Inbox.task.created")]))),
        ("a host pulls from its own consumer",
         lambda p: allowed(session(p, laptop, ["PUB $JS.API.CONSUMER.MSG.NEXT.KV_vsync_tasks.host-laptop-alice 0\r\n"]))),
        ("a host listens on its own control subjects",
         lambda p: allowed(session(p, laptop, ["SUB vsync.v1.ctl.tw.laptop-alice.export 1", "SUB vsync.v1.ctl.tw.reconcile 2"]))),
        ("a host may not publish another host's events",
         lambda p: violated(session(p, laptop, [pub("vsync.v1.in.tw.desk-alice.Inbox.task.created")]))),
        ("a host may not put canonical state",
         lambda p: violated(session(p, laptop, [pub("$KV.vsync_tasks.x")]))),
        ("a host may not pull from another host's consumer",
         lambda p: violated(session(p, laptop, ["PUB $JS.API.CONSUMER.MSG.NEXT.KV_vsync_tasks.host-desk-alice 0\r\n"]))),
        ("a host may not request another host's export",
         lambda p: violated(session(p, laptop, [pub("vsync.v1.ctl.tw.desk-alice.export")]))),
        ("a host may not listen on another host's control subjects",
         lambda p: violated(session(p, laptop, ["SUB vsync.v1.ctl.tw.desk-alice.export 1"]))),
        ("a host reads replies on its own inbox prefix",
         lambda p: allowed(session(p, laptop, ["SUB _INBOX_laptop-alice.x 1"]))),
        ("a host may not read other clients' replies",
         lambda p: violated(session(p, laptop, ["SUB _INBOX.x 1"]))),
        ("a host may not write a correlation or a label",
         lambda p: violated(session(p, laptop, [pub("$KV.vsync_links.1")]))),
        ("a host may not control the reconciler",
         lambda p: violated(session(p, laptop, [pub("vsync.v1.ctl.reconciler.adopt")]))),
        ("the server identity may put canonical state",
         lambda p: allowed(session(p, server, [pub("$KV.vsync_tasks.x")]))),
    ]

    failures = 0
    with tempfile.TemporaryDirectory(prefix="bus-auth-") as tmp:
        port = free_port()
        conf = dict(settings, host="127.0.0.1", port=port, jetstream={"store_dir": tmp})
        path = os.path.join(tmp, "nats.conf")
        with open(path, "w") as f:
            json.dump(conf, f)
        proc = subprocess.Popen([server_bin, "-c", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        print("FAIL: nats-server did not start with the rendered config")
                        print(proc.stderr.read().decode() if proc.poll() is not None else "")
                        return 1
                    time.sleep(0.05)
            for name, check in checks:
                ok = False
                try:
                    ok = check(port)
                except Exception as e:  # a refused socket or a protocol surprise fails the check
                    name += f" ({e})"
                print(("ok   " if ok else "FAIL ") + name)
                failures += not ok
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
