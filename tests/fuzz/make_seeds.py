#!/usr/bin/env python3
"""Writes the small seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Every seed is synthesised here (modelled on the unit-test fixtures); nothing is copied from
../shared. Re-run after changing a harness's input layout:  python3 tests/fuzz/make_seeds.py
"""
import io, json, os, plistlib, struct, tarfile, zipfile, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- STIX2 -------------------------------------------------------------------------------
def stix(patterns):
    objs = [{"type": "malware", "id": "malware--m", "name": "M", "description": "d", "is_family": False}]
    for i, p in enumerate(patterns):
        objs.append({"type": "indicator", "id": f"indicator--{i}", "pattern": p, "pattern_type": "stix"})
        objs.append({"type": "relationship", "id": f"relationship--{i}", "relationship_type": "indicates",
                     "source_ref": f"indicator--{i}", "target_ref": "malware--m"})
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": objs})


put("fuzz_stix2", "domains", stix(["[domain-name:value = 'evil.example']", "[url:value = 'https://x.example/a?b']",
                                   "[ipv4-addr:value = '1.2.3.4']", "[ipv6-addr:value = '::1']"]))
put("fuzz_stix2", "files", stix(["[file:name = 'a.dylib']", "[file:path = '/private/var/x']",
                                 "[file:hashes.sha256 = '" + "a" * 64 + "']", "[process:name = 'bad']",
                                 "[email-addr:value = 'a@b.c']", "[app:id = 'com.x']",
                                 "[configuration-profile:id = 'ABC']", "[android-property:name = 'x.y']",
                                 "[domain-name:value = 'a.example' OR domain-name:value = 'b.example']"]))
put("fuzz_stix2", "report", json.dumps({"type": "bundle", "objects": [
    {"type": "report", "id": "report--r", "name": "R", "description": "r", "object_refs": ["indicator--1"]},
    {"type": "indicator", "id": "indicator--1", "pattern": "[domain-name:value = 'r.example']"}]}))

# --- normalisers ---------------------------------------------------------------------------
for i, s in enumerate(["HTTPS://WWW.Example.COM:443/a/../b?q=1#frag", "http://[::FFFF:1.2.3.4]:80",
                       "evil.example.", "/private/var/mobile//Library", "2001:db8::1", "1.2.3.4",
                       "host/path?x", "ftp://user:pw@h:21/"]):
    put("fuzz_normalize", f"s{i}", s)

# --- plists --------------------------------------------------------------------------------
import datetime
plain = {"a": 1, "b": [True, 1.5, "s", b"\x00\x01"], "d": datetime.datetime(2021, 1, 1), "n": {"x": {"y": []}}}
for sel in (0, 1):
    put("fuzz_plist", f"bin{sel}", bytes([sel]) + plistlib.dumps(plain, fmt=plistlib.FMT_BINARY))
    put("fuzz_plist", f"xml{sel}", bytes([sel]) + plistlib.dumps(plain, fmt=plistlib.FMT_XML))
U = plistlib.UID
mbfile = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": U(1)}, "$objects": [
    "$null",
    {"$class": U(4), "RelativePath": U(2), "Size": 12, "Mode": 33188, "LastModified": 1630000000,
     "ProtectionClass": 3, "EncryptionKey": U(3), "Flags": 0},
    "Library/SMS/sms.db",
    {"NS.data": b"\x03\x00\x00\x00" + b"K" * 40, "$class": U(5)},
    {"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]},
    {"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]}]}
mb = plistlib.dumps(mbfile, fmt=plistlib.FMT_BINARY)
put("fuzz_plist", "nska", b"\x00" + mb)
cyc = {"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": U(1)},
       "$objects": ["$null", {"a": U(2)}, {"b": U(1), "c": [U(1), U(2)]}]}
put("fuzz_plist", "nska_cycle", b"\x01" + plistlib.dumps(cyc, fmt=plistlib.FMT_BINARY))

# --- keybag / MBFile -------------------------------------------------------------------------
def tlv(tag, v):
    return tag.encode() + struct.pack(">I", len(v)) + v
def u32(tag, n):
    return tlv(tag, struct.pack(">I", n))
kb = (u32("VERS", 4) + u32("TYPE", 1) + tlv("UUID", b"U" * 16) + tlv("HMCK", b"H" * 40) + u32("WRAP", 0) +
      tlv("SALT", b"s" * 20) + u32("ITER", 1) + u32("DPWT", 1) + u32("DPIC", 1) + tlv("DPSL", b"d" * 20))
for cls in (1, 2, 3):
    kb += tlv("UUID", bytes([97 + cls]) * 16) + u32("CLAS", cls) + u32("WRAP", 2) + u32("KTYP", 0) + tlv("WPKY", b"W" * 40)
kb += tlv("SIGN", b"S" * 20)
put("fuzz_keybag", "keybag", b"\x00" + kb)
put("fuzz_keybag", "mbfile", b"\x01" + mb)

# --- dumpstate -----------------------------------------------------------------------------
SEP = "-" * 78
def dump(service, body):
    return f"DUMP OF SERVICE {service}:\n{body}\n{SEP}\n"
ds = ("== dumpstate: 2024-01-01 10:00:00\n------ SYSTEM PROPERTIES (getprop) ------\n"
      "[ro.build.version.sdk]: [33]\n[ro.build.version.security_patch]: [2023-01-05]\n------ 0.1s was the duration\n")
ds += dump("package", "Activity Resolver Table:\n  Non-Data Actions:\n      android.intent.action.MAIN:\n"
           "        1234abc com.evil/.Main filter 5678\n\nReceiver Resolver Table:\n  Non-Data Actions:\n"
           "      android.provider.Telephony.SMS_RECEIVED:\n        1 com.evil/.Rx filter 2\n\n"
           "Packages:\n  Package [com.evil] (abc):\n    userId=10100\n    versionName=1.0\n"
           "    firstInstallTime=2024-01-01 10:00:00\n    lastUpdateTime=2024-01-01 10:00:00\n"
           "    installerPackageName=null\n    requested permissions:\n      android.permission.READ_SMS\n")
ds += dump("accessibility", "  installed services:\n    0 : com.evil/.Acc\n  enabled services: {com.evil/.Acc}\n")
ds += dump("appops", "  Uid 10100:\n    Package com.evil:\n      REQUEST_INSTALL_PACKAGES (allow):\n"
           "        Access: [fg-s] 2024-01-01 10:00:00.000 (-1d0h)\n")
ds += dump("batterystats", "Daily stats:\n  Current start time: 2024-01-01-10-00-00\n  Daily from 2023-12-31-10-00-00 to 2024-01-01-10-00-00:\n"
           "    Update com.evil vers=2\nBattery History (1% used, 1KB used of 4096KB, 1 strings using 1KB):\n"
           "                    0 (15) RESET:TIME: 2024-01-01-10-00-00\n     +1s0ms (2) 100 +job=u0a100:\"com.evil/.J\"\n"
           "     +2s0ms (2) 100 -job=u0a100:\"com.evil/.J\"\n     +3s (2) 100 +top=u0a100:\"com.evil\"\n")
ds += dump("dbinfo", "Connection pool for /data/user/0/com.evil/databases/x.db:\n  Most recently executed operations:\n"
           "    0: [2024-01-01 10:00:00.000] executeForCursorWindow took 1ms - succeeded, sql=\"SELECT 1\", path=/data/x.db\n")
ds += dump("adb", "ADB MANAGER STATE (dumpsys adb):\n{\n  debugging_manager={\n    connected_to_adb=true\n"
           "    user_keys=QAAAAAAAAAA= user@host\n  }\n}\n")
ds += dump("platform_compat", "ChangeId(1; name=X; enableSinceTargetSdk=29; packageOverrides={com.evil=false})\n")
put("fuzz_dumpstate", "full", ds)
put("fuzz_dumpstate", "crlf", ds.replace("\n", "\r\n"))
put("fuzz_dumpstate", "unterminated", "DUMP OF SERVICE package:\nPackages:\n  Package [a] (1):\n")

# --- tombstones ------------------------------------------------------------------------------
tomb = ("*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\n"
        "Build fingerprint: 'google/x/y:13/TQ1A/1:user/release-keys'\nRevision: '0'\nABI: 'arm64'\n"
        "Timestamp: 2024-01-01 10:00:00.123456789+0100\nProcess uptime: 5s\n"
        "Cmdline: /system/bin/evil --flag\npid: 1234, tid: 1235, name: evil  >>> /system/bin/evil <<<\n"
        "uid: 0\nsignal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0\n")
put("fuzz_tombstone", "text", b"\x00" + tomb.encode())
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def field(num, wt, payload):
    key = varint((num << 3) | wt)
    return key + (varint(payload) if wt == 0 else varint(len(payload)) + payload)
sig = field(1, 0, 11) + field(2, 2, b"SIGSEGV") + field(3, 0, 1) + field(4, 2, b"SEGV_MAPERR")
pb = (field(1, 0, 3) + field(2, 2, b"google/x/y:13") + field(3, 2, b"0") + field(4, 2, b"2024-01-01 10:00:00+0100")
      + field(5, 0, 1234) + field(6, 0, 1235) + field(7, 0, 0) + field(9, 2, b"/system/bin/evil") + field(10, 2, sig))
put("fuzz_tombstone", "proto", b"\x01" + pb)

# --- androidqf -------------------------------------------------------------------------------
pk = [{"name": "com.evil", "installer": "com.android.vending", "disabled": False, "system": False,
       "files": [{"path": "/data/app/base.apk", "sha256": "a" * 64, "certificate": {"Md5": "b" * 32, "Sha1": "c" * 40, "Sha256": "d" * 64}}]},
      {"name": "eu.chainfire.supersu", "installer": "null", "system": False, "files": []}]
put("fuzz_androidqf", "packages", b"\x00" + json.dumps(pk).encode())
files = [{"path": "/data/local/tmp/x", "size": 3, "mode": "-rwxr-xr-x", "user_id": 0, "group_id": 0,
          "changed_time": 1700000000, "modified_time": 1700000000, "access_time": 1700000000, "sha256": "e" * 64}]
put("fuzz_androidqf", "files", b"\x01" + json.dumps(files).encode())
put("fuzz_androidqf", "files_ndjson", b"\x01" + b"\n".join(json.dumps(f).encode() for f in files))
put("fuzz_androidqf", "ps", b"\x02" + b"USER PID PPID VSZ RSS WCHAN ADDR S NAME\nroot 1 0 100 10 0 0 S init\n"
    b"u0_a100 1234 1 100 10 0 0 S com.evil\n")
put("fuzz_androidqf", "getprop", b"\x03" + b"[ro.build.version.security_patch]: [2020-01-05]\n[ro.product.model]: [Pixel]\n")
put("fuzz_androidqf", "settings", b"\x04" + b"package_verifier_enable=0\nadb_enabled=1\n")
put("fuzz_androidqf", "logs", b"\x05" + b"01-01 10:00:00.000  1234  1235 I tag: hello\n")

# --- archives --------------------------------------------------------------------------------
def mkzip(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            z.writestr(n, d)
    return b.getvalue()
def mktar(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for n, d in members:
            info = tarfile.TarInfo(n)
            info.size = len(d)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(d))
    return b.getvalue()
members = [("qf/getprop.txt", b"[a]: [b]\n"), ("qf/packages.json", b"[]"), ("qf/sub/x.txt", b"x" * 100)]
put("fuzz_zip", "flat", b"\x00" + mkzip([("dumpstate.txt", ds.encode()), ("main_entry.txt", b"dumpstate.txt")]))
put("fuzz_zip", "qf", b"\x01" + mkzip(members))
put("fuzz_zip", "nested", b"\x00" + mkzip([("inner.zip", mkzip(members))]))
put("fuzz_tar", "apps", mktar([("apps/com.evil/_manifest", b"1\n"), ("apps/com.android.providers.telephony/d_f/000000_sms_backup", b"[]")]))
put("fuzz_tar", "qf", mktar(members))

# --- adb backup ------------------------------------------------------------------------------
tarb = mktar([("apps/com.android.providers.telephony/d_f/000000_sms_backup",
               zlib.compress(json.dumps([{"address": "1", "body": "hi https://evil.example/x", "date": "1700000000000"}]).encode()))])
put("fuzz_ab", "plain", b"ANDROID BACKUP\n5\n0\nnone\n" + tarb + b"\x00")
put("fuzz_ab", "compressed", b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(tarb) + b"\x00")
put("fuzz_ab", "encrypted", b"ANDROID BACKUP\n5\n1\nAES-256\n" + b"A" * 128 + b"\n" + b"B" * 128 + b"\n10\n"
    + b"C" * 32 + b"\n" + b"D" * 192 + b"\n" + b"\x00" * 64 + b"\x01")

# --- intrusion logs ----------------------------------------------------------------------------
put("fuzz_intrusion", "events",
    '{"dns_event": {"event_time": 1750000000123, "hostname": "evil.example", "ip_addresses": ["/1.2.3.4"], "package_name": "com.x"}}\n'
    '{"connect_event": {"event_time": 1750000000123, "ip_address": "/5.6.7.8", "port": 443, "package_name": "com.x"}}\n'
    '{"security_event": {"event_time": 1750000000123, "tag": "ADB_SHELL_CMD", "data": ["ls"]}}\nnot json\n')

# --- encrypted databases (fuzz_cbc_image: flags byte, amount byte, plaintext SQLite) -------------
def sqlite_image(wal=False):
    import sqlite3
    con = sqlite3.connect(":memory:")
    con.execute("PRAGMA page_size=512")
    con.execute("CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT, handle TEXT)")
    con.executemany("INSERT INTO message VALUES (?, ?, ?)",
                    [(i, "see https://x%d.example.org/%s" % (i, "p" * (i % 40)), "+1555%04d" % i)
                     for i in range(1, 60)])
    con.execute("CREATE INDEX message_handle ON message (handle)")
    con.commit()
    img = bytearray(con.serialize())
    if wal:  # file-format bytes 18/19 = 2: a database last written in WAL mode
        img[18] = img[19] = 2
    return bytes(img)


put("fuzz_cbc_image", "db", bytes([0, 5]) + sqlite_image())
put("fuzz_cbc_image", "db_sized_flipped", bytes([0x14, 0xC8]) + sqlite_image())
put("fuzz_cbc_image", "wal_header", bytes([0, 0]) + sqlite_image(wal=True))

# --- iOS shutdown.log --------------------------------------------------------------------------
put("fuzz_shutdown_log", "delayed",
    "remaining client pid: 1234 (/System/Library/PrivateFrameworks/X.framework/xd)\n"
    "After 1.72s, these clients are still here:\n"
    "remaining client pid: 99 (/private/var/db/com.apple.xpc.roleaccountd.staging/abc)\n"
    "After 3.10s, these clients are still here:\nAfter 5.00s, these clients are still here:\n"
    "SIGTERM: [1700000000]\n"
    "remaining client pid: 7 (/usr/libexec/a/6C3D2A5E-1B2C-4D5E-8F90-A1B2C3D4E5F6)\n"
    "some header @1700000123 then\nSIGTERM:\nremaining client pid: 8 (/trailing)\n")
