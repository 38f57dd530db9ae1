#!/usr/bin/env python3
"""
indep_vectors.py - a second, independent implementation of the wipeer v1
handshake and record layer, written from docs/PROTOCOL.md alone (with
python3-cryptography, not OpenSSL through libwipeer), recomputing every value
and every frame of tests/core/vectors/handshake.txt for both suites. It proves
the spec is sufficient to interoperate, and catches a change to the engine or
the vectors that the spec does not follow.

usage: indep_vectors.py handshake.txt     exit 0 ok, 1 mismatch, 77 skipped
"""
import hashlib, hmac, sys
try:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
except ImportError:
    print("skipped: python3-cryptography is not installed (scripts/deps-extra.txt)")
    sys.exit(77)

MAGIC = bytes.fromhex("895749504545520a")
def H(b): return hashlib.sha256(b).digest()
def extract(salt, ikm): return hmac.new(salt, ikm, hashlib.sha256).digest()
def expand(prk, info, L):
    out, t, i = b"", b"", 1
    while len(out) < L:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:L]
def xlabel(secret, label, ctx, L):
    lab = b"wipeer1 " + label
    return expand(secret, L.to_bytes(2, "big") + bytes([len(lab)]) + lab + bytes([len(ctx)]) + ctx, L)
def pub(d):
    k = ec.derive_private_key(d, ec.SECP256R1())
    n = k.public_key().public_numbers()
    return k, b"\x04" + n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")
def be32(x): return x.to_bytes(4, "big")

def load(path, suite):
    v, cur = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith("["): cur = line
        elif cur == "[suite %04x]" % suite and "=" in line:
            k, x = [s.strip() for s in line.split("=", 1)]
            v[k] = bytes.fromhex(x)
    return v

class Dir:
    def __init__(s, aead, secret): s.aead, s.ctr = aead, 0; s.set(secret)
    def set(s, secret):
        s.secret = secret
        s.key, s.iv = xlabel(secret, b"key", b"", 32), xlabel(secret, b"iv", b"", 12)
    def seal_body(s, aad, pt):
        nonce = bytes(a ^ b for a, b in zip(s.iv, bytes(4) + s.ctr.to_bytes(8, "big")))
        s.ctr += 1
        return s.aead(s.key).encrypt(nonce, pt, aad)
    def record(s, typ, content):
        L = 1 + len(content) + 16
        return be32(L) + s.seal_body(be32(L), bytes([typ]) + content)
    def update(s): s.set(xlabel(s.secret, b"traffic upd", b"", 32))

def verify(pub65, msg, sig):
    k = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub65)
    k.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
             msg, ec.ECDSA(hashes.SHA256()))

def run(path, suite):
    v = load(path, suite)
    aead = AESGCM if suite == 1 else ChaCha20Poly1305
    got = {}
    rI, rR = v["rng_I"], v["rng_R"]
    randI = rI[:32]
    eI, E_I = pub(int.from_bytes(rI[32:64], "big"))
    eR, E_R = pub(int.from_bytes(rR[32:64], "big"))
    _, ID_I = pub(int.from_bytes(v["id_I_scalar"], "big"))
    _, ID_R = pub(int.from_bytes(v["id_R_scalar"], "big"))
    got["id_I_pub"], got["id_R_pub"] = ID_I, ID_R
    randR = rR[:32]
    msg1 = MAGIC + b"\x01" + b"\x01" + (1).to_bytes(2, "big") + b"\x01" + suite.to_bytes(2, "big") \
        + randI + E_I + b"\x00\x00"
    got["i2r.01.msg1"] = be32(len(msg1)) + msg1
    th = hashlib.sha256(msg1)
    m2h = MAGIC + b"\x02" + (1).to_bytes(2, "big") + suite.to_bytes(2, "big") + randR + E_R
    th.update(m2h); th2 = th.digest()
    dh = eI.exchange(ec.ECDH(), eR.public_key())
    early = extract(bytes(32), bytes(32))
    hs = extract(xlabel(early, b"derived", H(b""), 32), dh)
    i_hs, r_hs = xlabel(hs, b"i hs traffic", th2, 32), xlabel(hs, b"r hs traffic", th2, 32)
    head = b"\x02" + be32(1048576) + ID_R
    th.update(head); th_sigR = th.digest()
    verify(ID_R, b"wipeer/1 responder signature\x00" + th_sigR, v["sig_R"])
    th.update(v["sig_R"]); th_finR = th.digest()
    finR = hmac.new(xlabel(r_hs, b"finished", b"", 32), th_finR, hashlib.sha256).digest()
    th.update(finR); th3 = th.digest()
    enc = Dir(aead, r_hs).seal_body(be32(292), head + v["sig_R"] + finR)
    got["r2i.01.msg2"] = be32(292) + m2h + enc
    master = extract(xlabel(hs, b"derived", H(b""), 32), bytes(32))
    i_ap, r_ap = xlabel(master, b"i ap traffic", th3, 32), xlabel(master, b"r ap traffic", th3, 32)
    exp = xlabel(master, b"exp master", th3, 32)
    head3 = b"\x03" + be32(1048576) + ID_I
    th.update(head3); th_sigI = th.digest()
    verify(ID_I, b"wipeer/1 initiator signature\x00" + th_sigI, v["sig_I"])
    th.update(v["sig_I"]); th_finI = th.digest()
    finI = hmac.new(xlabel(i_hs, b"finished", b"", 32), th_finI, hashlib.sha256).digest()
    got["i2r.02.msg3"] = Dir(aead, i_hs).record(0x03, head3[1:] + v["sig_I"] + finI)
    I, R = Dir(aead, i_ap), Dir(aead, r_ap)
    got["r2i.02.ready"] = R.record(0x10, b"")
    got["i2r.03.data"] = I.record(0x11, b"hello responder")
    got["r2i.03.data"] = R.record(0x11, b"hello initiator")
    got["i2r.04.data"] = I.record(0x11, b"one")
    got["i2r.05.key_update"] = I.record(0x12, b""); I.update(); got["i_ap_1"] = I.secret
    got["i2r.06.data"] = I.record(0x11, b"two")
    got["i2r.07.data"] = I.record(0x11, b"three")
    got["i2r.08.close_notify"] = I.record(0x15, b"\x00")
    got["r2i.04.close_notify"] = R.record(0x15, b"\x00")
    got.update(dh=dh, th2=th2, early=early, hs=hs, i_hs=i_hs, r_hs=r_hs, th3=th3, master=master,
               i_ap_0=i_ap, r_ap_0=r_ap, exp=exp,
               exporter=xlabel(exp, b"EXPORTER-wipeer-test", b"", 32))
    bad = 0
    for k, x in got.items():
        if v.get(k) != x:
            print("suite %04x: %s differs" % (suite, k)); bad += 1
    unchecked = set(v) - set(got) - {"suite", "id_I_scalar", "id_R_scalar", "rng_I", "rng_R", "sig_R", "sig_I"}
    for k in sorted(unchecked):
        print("suite %04x: %s not recomputed" % (suite, k)); bad += 1
    print("suite %04x: %d values recomputed, %d bad" % (suite, len(got), bad))
    return bad

sys.exit(1 if run(sys.argv[1], 1) + run(sys.argv[1], 2) else 0)
