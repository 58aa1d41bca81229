// Contacts: the address book (AddressBook.sqlitedb): one record per ABMultiValue value of a
// person. No indicator checks and no timeline (as MVT).
#include "modules/ios/common.hpp"

namespace bridle {
namespace {

const ArtifactSpec& contacts_spec() {
  static const ArtifactSpec s{{{"HomeDomain", "Library/AddressBook/AddressBook.sqlitedb", false}},
                              {"private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"}};
  return s;
}

class Contacts final : public Module {
 public:
  const ModuleInfo& info() const override {
    static const ModuleInfo i{"Contacts", "contacts", kIosAny, Level::Critical, ModuleInfo::Shape::List,
                              "Address book entries (AddressBook.sqlitedb)"};
    return i;
  }

  void run(ModuleContext& ctx) override {
    for (auto& db : ios::open_databases(ctx, contacts_spec(), "Contacts")) {
      auto pcols = ios::table_columns(db, "ABPerson");
      auto mcols = ios::table_columns(db, "ABMultiValue");
      if (pcols.empty() || mcols.empty() || !ios::has_column(mcols, "record_id") || !ios::has_column(mcols, "value")) {
        ctx.unreadable(db.file.display, "no usable ABPerson/ABMultiValue tables in the address book");
        continue;
      }
      auto p = [&](const char* name) {
        return ios::has_column(pcols, name) ? "person." + std::string(name) : "NULL AS " + std::string(name);
      };
      std::size_t n = 0;
      ios::run_query(ctx, db,
                     "SELECT multi.value AS value, " + p("first") + ", " + p("middle") + ", " + p("last") + ", " +
                         p("organization") +
                         " FROM ABPerson person JOIN ABMultiValue multi ON person.rowid = multi.record_id"
                         " WHERE multi.value IS NOT NULL ORDER BY person.rowid ASC, multi.rowid ASC",
                     [&](const SqliteRow& row) {
                       Json r;
                       r["value"] = row.value(0);
                       r["first"] = row.value(1);
                       r["middle"] = row.value(2);
                       r["last"] = row.value(3);
                       r["organization"] = row.value(4);
                       ctx.emit(std::move(r));
                       ++n;
                       return true;
                     });
      ctx.info("Extracted a total of " + std::to_string(n) + " contacts from the address book");
    }
  }
};

BRIDLE_REGISTER_MODULE(Contacts);

}  // namespace
}  // namespace bridle
