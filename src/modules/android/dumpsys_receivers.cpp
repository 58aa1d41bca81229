// DumpsysReceivers: broadcast receivers by intent action, with notes on SMS and call
// interception ("DUMP OF SERVICE package:" -> "Receiver Resolver Table:").
#include "modules/android/dumpstate.hpp"
#include "modules/module.hpp"

namespace bridle {
namespace {

class DumpsysReceivers final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"DumpsysReceivers", "dumpsys_receivers", kAndroidBugreport, Level::Critical,
                              ModuleInfo::Shape::Grouped,
                              "Broadcast receivers by intent, incl. SMS/call interception (dumpsys package)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    auto d = module_dumpstate(ctx);
    if (!d) return;
    static const std::pair<const char*, const char*> kWatched[] = {
        {"android.provider.Telephony.NEW_OUTGOING_SMS", "Found a receiver to intercept outgoing SMS messages: \""},
        {"android.provider.Telephony.SMS_RECEIVED", "Found a receiver to intercept incoming SMS messages: \""},
        {"android.intent.action.DATA_SMS_RECEIVED", "Found a receiver to intercept incoming data SMS message: \""},
        {"android.intent.action.PHONE_STATE", "Found a receiver monitoring telephony state/incoming calls: \""},
        {"android.intent.action.NEW_OUTGOING_CALL", "Found a receiver monitoring outgoing calls: \""},
    };
    std::vector<std::string> intents;
    walk_resolver_table(
        d->service("package"), "Receiver Resolver Table:",
        [&](const std::string& intent) {
          bool seen = false;
          for (auto& i : intents) seen = seen || i == intent;
          if (!seen) intents.push_back(intent);
        },
        [&](const std::string& intent, const std::string& receiver) {
          for (auto& [name, msg] : kWatched)
            if (intent == name) ctx.info(std::string(msg) + receiver + "\"");
          Json r = Json::object();
          r["package_name"] = receiver.substr(0, receiver.find('/'));
          r["receiver"] = receiver;
          ctx.emit(std::move(r), intent);
        });
    ctx.info("Extracted receivers for " + std::to_string(intents.size()) + " intents");
  }

  void observe(const Json& r, std::vector<Observation>& out) const override {
    std::string pkg = jstr(r, "package_name");
    if (!pkg.empty()) out.push_back({ObsKind::AppId, pkg, {}});
  }
};

BRIDLE_REGISTER_MODULE(DumpsysReceivers);

}  // namespace
}  // namespace bridle
