// bridle-fixtures: writes the demo acquisition and its demo indicators.
//   bridle-fixtures demo OUT_DIR   -> OUT_DIR/ios_backup/, OUT_DIR/demo.stix2
// Everything is synthetic: the "spyware" is fictional and its domains are under example.org.
#include <iostream>
#include <string>

#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kSmsSql = R"SQL(
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT, account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, payload_data BLOB, message_summary_info BLOB);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
INSERT INTO handle VALUES (1, '+15555550123', 'us', 'SMS', NULL, NULL);
INSERT INTO handle VALUES (2, '+15555550199', 'us', 'iMessage', NULL, NULL);
INSERT INTO message (ROWID, guid, text, handle_id, service, account, date, date_read, is_from_me, is_read)
  VALUES (1, '6A0D8F3C-1111-4C55-9D0E-000000000001', 'See you at 7?', 2, 'iMessage', 'e:owner@example.net', 650000000000000000, 650000100000000000, 0, 1);
INSERT INTO message (ROWID, guid, text, handle_id, service, account, date, date_read, is_from_me, is_read)
  VALUES (2, '6A0D8F3C-1111-4C55-9D0E-000000000002', 'Sure!', 2, 'iMessage', 'e:owner@example.net', 650000200000000000, 0, 1, 1);
INSERT INTO message (ROWID, guid, text, handle_id, service, account, date, date_read, is_from_me, is_read)
  VALUES (3, '6A0D8F3C-1111-4C55-9D0E-000000000003', 'Your parcel is held at customs, pay the fee: https://track-parcel.demo-spyware.example.org/p/9f3k2', 1, 'SMS', 'p:+15555550100', 651000000000000000, 651000060000000000, 0, 1);
)SQL";

const char* kDataUsageSql = R"SQL(
CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);
CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER, ZMETADATA INTEGER, ZTAG INTEGER, ZHASPROCESS INTEGER, ZBILLCYCLEEND TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZWIFIIN FLOAT, ZWIFIOUT FLOAT, ZWWANIN FLOAT, ZWWANOUT FLOAT);
INSERT INTO ZPROCESS VALUES (1, 8, 1, 649999000.5, 650100000.25, 'com.apple.mobilesafari', 'com.apple.WebKit.Networking/com.apple.mobilesafari');
INSERT INTO ZPROCESS VALUES (2, 8, 1, 649999100.0, 650100100.0, 'com.apple.MobileSMS', 'MobileSMS/com.apple.MobileSMS');
INSERT INTO ZPROCESS VALUES (3, 8, 1, 651000042.75, 651000043.0, NULL, 'demoagentd');
INSERT INTO ZLIVEUSAGE VALUES (1, 6, 1, 0, NULL, 0, 1, NULL, 650100000.25, 1024.0, 512.0, 0.0, 0.0);
INSERT INTO ZLIVEUSAGE VALUES (2, 6, 1, 0, NULL, 0, 3, NULL, 651000043.0, 88123.0, 99342.0, 0.0, 0.0);
)SQL";

const char* kDemoStix = R"JSON({
  "type": "bundle",
  "id": "bundle--5f1c2a3e-0000-4000-8000-000000000001",
  "objects": [
    {"type": "malware", "spec_version": "2.1", "id": "malware--5f1c2a3e-0000-4000-8000-000000000002",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
     "name": "DemoSpyware", "description": "Fictional spyware for the bridle demo. Not a real threat.", "is_family": false},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--5f1c2a3e-0000-4000-8000-000000000010",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "indicator_types": ["malicious-activity"],
     "pattern": "[domain-name:value = 'demo-spyware.example.org']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--5f1c2a3e-0000-4000-8000-000000000011",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "indicator_types": ["malicious-activity"],
     "pattern": "[process:name = 'demoagentd']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--5f1c2a3e-0000-4000-8000-000000000012",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "indicator_types": ["malicious-activity"],
     "pattern": "[file:name = 'com.demo.agentd.plist']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
    {"type": "relationship", "spec_version": "2.1", "id": "relationship--5f1c2a3e-0000-4000-8000-000000000020",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "relationship_type": "indicates",
     "source_ref": "indicator--5f1c2a3e-0000-4000-8000-000000000010", "target_ref": "malware--5f1c2a3e-0000-4000-8000-000000000002"},
    {"type": "relationship", "spec_version": "2.1", "id": "relationship--5f1c2a3e-0000-4000-8000-000000000021",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "relationship_type": "indicates",
     "source_ref": "indicator--5f1c2a3e-0000-4000-8000-000000000011", "target_ref": "malware--5f1c2a3e-0000-4000-8000-000000000002"},
    {"type": "relationship", "spec_version": "2.1", "id": "relationship--5f1c2a3e-0000-4000-8000-000000000022",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "relationship_type": "indicates",
     "source_ref": "indicator--5f1c2a3e-0000-4000-8000-000000000012", "target_ref": "malware--5f1c2a3e-0000-4000-8000-000000000002"}
  ]
}
)JSON";

void make_demo(const std::filesystem::path& out) {
  std::filesystem::remove_all(out / "ios_backup");
  BackupBuilder b(out / "ios_backup" / "00008030-00000000DE000001");
  b.add_manifest_only("HomeDomain", "", 2, 1640000000);
  b.add_manifest_only("HomeDomain", "Library", 2, 1640000000);
  b.add_manifest_only("HomeDomain", "Library/SMS", 2, 1640000000);
  b.add_sqlite("HomeDomain", "Library/SMS/sms.db", kSmsSql, 1651000100);
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", kDataUsageSql, 1651000100);
  b.add_file("HomeDomain", "Library/Preferences/com.apple.Preferences.plist",
             make_plist({{"AppleLanguages", Json::array({"en-US"})}}, true), 1640000000);
  b.add_file("RootDomain", "Library/Preferences/com.demo.agentd.plist",
             make_plist({{"Interval", 300}}, true), 1651000050);
  b.add_file("HomeDomain", "Library/Preferences/.GlobalPreferences.plist",
             make_plist({{"AppleLocale", "en_US"}, {"LDMGlobalEnabled", false}}, true), 1640000000);
  b.finish({{"Device Name", "Demo iPhone"}, {"Display Name", "Demo iPhone"},
            {"Product Type", "iPhone12,1"}, {"Product Version", "15.4"}, {"Build Version", "19E241"},
            {"Last Backup Date", "date:1651100000"},
            {"Unique Identifier", "00008030-00000000DE000001"}});
  write_file(out / "demo.stix2", kDemoStix);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "demo") {
    std::cerr << "usage: bridle-fixtures demo OUT_DIR\n";
    return 2;
  }
  make_demo(argv[2]);
  std::cout << "Demo acquisition written to " << argv[2] << "/ios_backup and " << argv[2]
            << "/demo.stix2\n";
  return 0;
}
