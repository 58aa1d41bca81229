// The dumpstate text of a bug report, read once (streamed, never held whole) and split once
// into its "DUMP OF SERVICE <name>:" sections (and the "------ SYSTEM PROPERTIES" block),
// shared by every dumpsys-based module.
//
// Splitting rule (MVT's extract_dumpsys_section): a section starts after the line whose
// trimmed text is "DUMP OF SERVICE <name>:" and ends before the next line whose trimmed text
// starts with 78 '-' (or at the end of the text when the terminator is missing). '\r\n' line
// ends are tolerated. When a service appears more than once, the first one wins.
//
// Memory: a real dumpstate is hundreds of MB (logcat, large service dumps). A Dumpstate
// loaded from a bug report keeps only the content of the sections some module reads
// (kModuleServices in dumpstate.cpp: a module reading a new service adds it there) and the
// system properties; every other section is only listed by name. The text is read in
// bounded chunks, so memory is the retained sections plus one line.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bridle {

class AndroidSource;
class ModuleContext;

class Dumpstate {
 public:
  // Splits `text` (any bytes; never throws on content), keeping every section.
  static std::shared_ptr<const Dumpstate> from_text(std::string_view text, std::string path = "");

  // Incremental splitter: feed() the text in chunks of any size, then finish(). Only the
  // sections for which keep(name) is true are retained (all when keep is empty).
  class Builder {
   public:
    explicit Builder(std::function<bool(std::string_view)> keep = {});
    ~Builder();
    void feed(std::string_view chunk);
    std::shared_ptr<const Dumpstate> finish(std::string path = "");

   private:
    void line(std::string_view raw, bool had_newline);
    void close_section();
    std::function<bool(std::string_view)> keep_;
    std::shared_ptr<Dumpstate> d_;
    std::string partial_;  // the current, incomplete line
    std::unordered_set<std::string> seen_;
    bool in_section_ = false, retained_ = false;
    std::string cur_name_, cur_;
    std::size_t cur_len_ = 0;
    bool in_props_ = false;
    std::string props_;
    std::size_t props_len_ = 0;
  };

  // Raw section content ("" when absent or not retained), without the header line and
  // without the line end of its last line; may contain '\r'.
  std::string_view service(std::string_view name) const;
  // True when the section is in the text (retained or not).
  bool has_service(std::string_view name) const;
  // The section as MVT's extractor returns it: its lines ('\r' dropped) joined by '\n'.
  std::string extract(std::string_view name) const;
  // Lines after "------ SYSTEM PROPERTIES" up to the next line starting with "------".
  std::string_view system_properties() const { return props_; }
  bool has_system_properties() const { return has_props_; }

  const std::string& path() const { return path_; }  // member it was read from
  std::vector<std::string> service_names() const;     // every section seen, in text order
  std::size_t size() const { return size_; }          // bytes of text split

 private:
  Dumpstate() = default;
  struct Section {
    std::string name;
    std::string content;
    bool retained = false;
  };
  std::string path_;
  std::vector<Section> sections_;
  std::string props_;
  bool has_props_ = false;
  std::size_t size_ = 0;
};

// Calls fn(line) for each line of `text` ('\n' separated, a trailing '\r' removed). Lines
// longer than max_line are cut to max_line. fn returns false to stop.
template <class Fn>
void for_each_line(std::string_view text, Fn&& fn, std::size_t max_line = 1u << 20) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_line) line = line.substr(0, max_line);
    if (!fn(line)) return;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
}

// Locates and reads the dumpstate of a bug report source: the file named by main_entry.txt,
// else dumpState_*.log, else */dumpsys.txt. nullptr + err when there is none or it cannot be
// read (err empty when simply absent).
std::shared_ptr<const Dumpstate> load_dumpstate(AndroidSource& src, std::string* err);

// The source's dumpstate: src.dumpstate when the command set it, else loaded once per source
// (thread-safe, cached by source address) with load_dumpstate.
std::shared_ptr<const Dumpstate> shared_dumpstate(AndroidSource& src, std::string* err);

// For modules: the bug report part of the acquisition (the source itself when its kind() is
// "bugreport", else its nested bug report), or nullptr.
AndroidSource* bugreport_part(ModuleContext& ctx);
// The dumpstate for a module run (reports an unreadable or missing dumpstate); nullptr when
// there is none.
std::shared_ptr<const Dumpstate> module_dumpstate(ModuleContext& ctx);

// Small string helpers shared by the dumpsys parsers (Python str semantics).
namespace ds {
std::string_view strip(std::string_view s);                 // str.strip()
std::vector<std::string_view> split_ws(std::string_view s,  // str.split() (bounded)
                                       std::size_t max_parts = 64);
std::string_view before(std::string_view s, char c);  // up to the first c (all when none)
std::string_view after(std::string_view s, char c);   // after the first c ("" when none)
bool starts(std::string_view s, std::string_view prefix);
bool indented(std::string_view line, std::size_t n);  // starts with n spaces
std::string valid_utf8(std::string_view s);           // invalid bytes backslash-escaped
}  // namespace ds

// Dumpsys package resolver tables (activities, receivers): calls fn(intent, component) for every entry of the
// "Non-Data Actions:" list of the table whose heading is `table`; on_intent(intent) for
// every action heading.
template <class OnIntent, class Fn>
void walk_resolver_table(std::string_view text, std::string_view table, OnIntent&& on_intent, Fn&& fn) {
  bool in_table = false, in_actions = false;
  std::string intent;
  bool have_intent = false;
  for_each_line(text, [&](std::string_view line) {
    if (!in_table) {
      if (ds::starts(line, table)) in_table = true;
      return true;
    }
    if (!in_actions) {
      if (ds::starts(line, "  Non-Data Actions:")) in_actions = true;
      return true;
    }
    if (ds::strip(line).empty()) return false;
    if (ds::indented(line, 6) && !ds::indented(line, 8) && line.find(':') != std::string_view::npos) {
      intent.clear();
      for (char c : ds::strip(line))
        if (c != ':') intent += c;
      intent = ds::valid_utf8(intent);
      have_intent = true;
      on_intent(intent);
      return true;
    }
    if (!have_intent) return true;
    if (!ds::indented(line, 8)) { have_intent = false; return true; }
    auto toks = ds::split_ws(line, 3);
    if (toks.size() < 2) return true;
    fn(intent, ds::valid_utf8(toks[1]));
    return true;
  });
}


}  // namespace bridle
