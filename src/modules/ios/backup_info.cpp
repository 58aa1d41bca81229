// BackupInfo: the device described by the backup's Info.plist.
#include "acquisition/source.hpp"
#include "core/util.hpp"
#include "formats/plist.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

class BackupInfo final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"BackupInfo", "backup_info", kIosBackup, Level::Critical,
                              ModuleInfo::Shape::Document, "Device details from the backup's Info.plist"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    IosSource* src = ctx.ios();
    if (!src) return;
    fs::path p = src->root() / "Info.plist";
    std::string err;
    auto data = read_file(p, 64ull << 20, &err);
    if (!data) {
      ctx.unreadable("Info.plist", err);
      return;
    }
    auto plist = plist_to_json(*data, {}, &err);
    if (!plist || !plist->is_object()) {
      ctx.unreadable("Info.plist", "not a readable property list: " + err);
      return;
    }
    static const char* keys[] = {"Build Version", "Device Name", "Display Name", "GUID", "ICCID",
                                 "IMEI", "MEID", "Installed Applications", "Last Backup Date",
                                 "Phone Number", "Product Name", "Product Type", "Product Version",
                                 "Serial Number", "Target Identifier", "Target Type",
                                 "Unique Identifier", "iTunes Version"};
    Json doc = Json::object();
    for (const char* k : keys) {
      auto it = plist->find(k);
      if (it == plist->end()) {
        doc[k] = nullptr;
        continue;
      }
      Json v = *it;
      // Dates print like Python's str(datetime): no ".000000".
      if (v.is_string()) {
        auto s = v.get<std::string>();
        if (s.size() == 26 && s.compare(19, 7, ".000000") == 0 && s[4] == '-' && s[10] == ' ')
          v = s.substr(0, 19);
      }
      doc[k] = v;
      std::string shown = v.is_string() ? v.get<std::string>() : v.dump();
      ctx.info(std::string(k) + ": " + shown);
    }
    ctx.set_document(doc);
  }
};

BRIDLE_REGISTER_MODULE(BackupInfo);

}  // namespace
}  // namespace bridle
