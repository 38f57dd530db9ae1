#!/usr/bin/python3
"""Publish one DNS-SD service with python3-zeroconf (Debian's package).

Run with /usr/bin/python3: the python3 on PATH does not see Debian's
python3-* packages (shared/NOTES-testing.md). The Zeroconf instance is
pinned to the given interface addresses, so nothing is sent anywhere
else. Prints one JSON line {"event": "published", ...} once probing and
announcing are done, then serves until SIGTERM/SIGINT or --duration, and
unregisters (goodbye packets, TTL 0) before exiting.

Exit codes: 0 ok, 1 failure, 2 usage.
"""
import argparse
import ipaddress
import json
import signal
import sys
import threading

from zeroconf import IPVersion, NonUniqueNameException, ServiceInfo, Zeroconf


def parse_txt(items):
    props = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise SystemExit("zc_publish: empty TXT key in %r" % item)
        # "flag" (no '=') is a boolean attribute: key present, no value.
        props[key] = value if sep else None
    return props


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iface", action="append", required=True,
                    help="interface address to bind (repeat; IPv4 or IPv6)")
    ap.add_argument("--name", required=True, help="instance name")
    ap.add_argument("--type", default="_wipeerkit._tcp.local.")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--txt", action="append", default=[], help="key=value (repeat)")
    ap.add_argument("--host", default=None, help="host name (default: NAME-zc.local.)")
    ap.add_argument("--address", action="append", default=None,
                    help="address to publish (default: the --iface addresses)")
    ap.add_argument("--allow-rename", action="store_true",
                    help="rename on conflict instead of failing")
    ap.add_argument("--duration", type=float, default=120.0,
                    help="seconds to serve before exiting (bound)")
    args = ap.parse_args()

    stype = args.type if args.type.endswith(".") else args.type + "."
    addrs = args.address if args.address else args.iface
    for a in addrs + args.iface:
        ipaddress.ip_address(a)
    host = args.host or "%s-zc.local." % "".join(
        c if c.isalnum() else "-" for c in args.name).strip("-").lower()
    info = ServiceInfo(stype, "%s.%s" % (args.name, stype), port=args.port,
                       properties=parse_txt(args.txt), server=host,
                       parsed_addresses=addrs)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    zc = Zeroconf(interfaces=args.iface)
    rc = 0
    try:
        try:
            zc.register_service(info, allow_name_change=args.allow_rename)
        except NonUniqueNameException:
            print(json.dumps({"event": "conflict", "name": args.name}), flush=True)
            return 1
        inst = info.name[: -len(stype) - 1]
        print(json.dumps({"event": "published", "name": inst, "type": stype,
                          "port": args.port, "server": host}), flush=True)
        stop.wait(args.duration)
        zc.unregister_service(info)
    except Exception as e:  # report, never hang
        print("zc_publish: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        rc = 1
    finally:
        zc.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
