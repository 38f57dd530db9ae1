#!/usr/bin/python3
"""Browse DNS-SD services with python3-zeroconf and print them as JSON lines.

Run with /usr/bin/python3 (see zc_publish.py). The Zeroconf instance is
pinned to the given interface addresses. Each line on stdout is one event:
  {"event": "resolved"|"updated", "name": INSTANCE, "type": T, "server": H,
   "port": P, "addresses": [...], "txt": {key: value-or-null}}
  {"event": "removed", "name": INSTANCE, "type": T}
IPv6 link-local addresses are printed without a %scope suffix.

Exits 0 once --count distinct instances resolved (or, with --count 0, when
--timeout expires), 3 if the timeout expired first, 1 on an error, 2 usage.
--until-removed NAME exits 0 as soon as NAME is reported removed.
"""
import argparse
import json
import queue
import signal
import sys
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf


def txt_dict(info):
    out = {}
    for k, v in info.properties.items():
        key = k.decode("utf-8", "backslashreplace") if isinstance(k, bytes) else str(k)
        if v is None:
            out[key] = None
        else:
            out[key] = v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else str(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iface", action="append", required=True,
                    help="interface address to bind (repeat; IPv4 or IPv6)")
    ap.add_argument("--type", default="_wipeerkit._tcp.local.")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds (bound)")
    ap.add_argument("--count", type=int, default=1,
                    help="exit after this many instances resolved (0: run to timeout)")
    ap.add_argument("--name", action="append", default=None,
                    help="only report these instances (repeat)")
    ap.add_argument("--need-v4", action="store_true",
                    help="report a service only once it has an IPv4 address")
    ap.add_argument("--need-v6", action="store_true",
                    help="report a service only once it has an IPv6 address")
    ap.add_argument("--until-removed", default=None, metavar="NAME",
                    help="exit 0 when NAME is removed (goodbye or expiry)")
    args = ap.parse_args()

    stype = args.type if args.type.endswith(".") else args.type + "."
    deadline = time.monotonic() + args.timeout
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    events = queue.Queue()

    def on_change(zeroconf, service_type, name, state_change):
        events.put((state_change, name))

    def instance(full):
        return full[: -len(stype) - 1] if full.endswith("." + stype) else full

    def wanted(inst):
        return args.name is None or inst in args.name

    def complete(info):
        if info.port is None or info.server is None:
            return False
        v4 = info.parsed_addresses(IPVersion.V4Only)
        v6 = info.parsed_addresses(IPVersion.V6Only)
        if args.need_v4 and not v4:
            return False
        if args.need_v6 and not v6:
            return False
        return bool(v4 or v6)

    zc = Zeroconf(interfaces=args.iface)
    browser = ServiceBrowser(zc, stype, handlers=[on_change])
    pending = set()
    reported = {}
    rc = 3
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                rc = 0 if args.count == 0 and args.until_removed is None else 3
                break
            try:
                change, full = events.get(timeout=min(0.1, deadline - now))
            except queue.Empty:
                change = None
            if change is not None:
                inst = instance(full)
                if not wanted(inst):
                    pass
                elif change is ServiceStateChange.Removed:
                    pending.discard(full)
                    reported.pop(full, None)
                    print(json.dumps({"event": "removed", "name": inst, "type": stype}),
                          flush=True)
                    if args.until_removed == inst:
                        rc = 0
                        break
                else:
                    pending.add(full)
            for full in sorted(pending):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                info = ServiceInfo(stype, full)
                if not info.request(zc, int(min(1.0, left) * 1000)) or not complete(info):
                    continue
                pending.discard(full)
                rec = {"name": instance(full), "type": stype,
                       "server": info.server, "port": info.port,
                       "addresses": sorted(info.parsed_addresses()),
                       "txt": txt_dict(info)}
                old = reported.get(full)
                if old == rec:
                    continue
                reported[full] = rec
                print(json.dumps(dict(event="updated" if old else "resolved", **rec)),
                      flush=True)
            if args.count > 0 and args.until_removed is None and len(reported) >= args.count:
                rc = 0
                break
    except Exception as e:  # report, never hang
        print("zc_browse: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        rc = 1
    finally:
        browser.cancel()
        zc.close()
    if rc == 3:
        print("zc_browse: timeout after %.1f s: %d of %d resolved"
              % (args.timeout, len(reported), args.count), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
