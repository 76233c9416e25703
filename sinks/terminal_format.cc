#include "sinks/terminal_format.h"

#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "sinks/event_fields.h"
#include "sinks/json_writer.h"
#include "sinks/text_escape.h"

namespace sandtrace::sinks {
namespace {

constexpr size_t kShortString = 96;  // abbreviated beyond this below verbosity 3
constexpr uint32_t kShortList = 8;

constexpr char kReset[] = "\x1b[0m";
constexpr char kBold[] = "\x1b[1m";
constexpr char kDim[] = "\x1b[2m";
constexpr char kRed[] = "\x1b[31m";
constexpr char kBoldRed[] = "\x1b[1;31m";
constexpr char kGreen[] = "\x1b[32m";
constexpr char kYellow[] = "\x1b[33m";
constexpr char kBlue[] = "\x1b[34m";
constexpr char kMagenta[] = "\x1b[35m";
constexpr char kCyan[] = "\x1b[36m";

// Appends `text` wrapped in `color` when colours are on.
void Paint(const TerminalStyle& style, const char* color, std::string_view text, std::string* out) {
  if (style.color && color != nullptr) out->append(color);
  out->append(text);
  if (style.color && color != nullptr) out->append(kReset);
}

const char* CategoryColor(std::string_view category) {
  if (category == "file_read") return kGreen;
  if (category == "file_write") return kYellow;
  if (category == "file_metadata" || category == "directory") return kBlue;
  if (category == "network") return kMagenta;
  if (category == "process") return kCyan;
  return nullptr;
}

void AppendInt(int64_t value, std::string* out) { out->append(std::to_string(value)); }

void AppendPidPrefix(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "[pid %5" PRId64 "] ", IntField(event, "pid"));
  Paint(style, kDim, prefix, out);
}

// Untrusted text, unquoted.
void AppendText(std::string_view text, std::string* out) {
  AppendEscaped(text, EscapeMode::kTerminal, out);
}

void AppendQuoted(std::string_view text, const TerminalStyle& style, std::string* out) {
  const bool cut = !style.full && text.size() > kShortString;
  out->push_back('"');
  AppendText(cut ? text.substr(0, kShortString) : text, out);
  out->push_back('"');
  if (cut) out->append("...");
}

void AppendAddress(const msgpack::object& addr, std::string* out) {
  const std::string_view family = TextField(addr, "family");
  const std::string_view address = TextField(addr, "address");
  const msgpack::object* port = Field(addr, "port");
  out->push_back('{');
  AppendText(family, out);
  out->push_back(' ');
  if (family == "AF_UNIX") {
    out->push_back('"');
    AppendText(address, out);
    out->push_back('"');
  } else {
    if (family == "AF_INET6") out->push_back('[');
    AppendText(address, out);
    if (family == "AF_INET6") out->push_back(']');
    if (port != nullptr) {
      out->push_back(':');
      AppendInt(AsInt(port).value_or(0), out);
    }
  }
  out->push_back('}');
}

void AppendArgValue(std::string_view key, const msgpack::object& value, const TerminalStyle& style,
                    std::string* out) {
  if (key == "addr" && value.type == msgpack::type::MAP) return AppendAddress(value, out);
  switch (value.type) {
    case msgpack::type::STR:
    case msgpack::type::BIN:
      if (key == "path" || key == "path2") return AppendQuoted(AsText(&value), style, out);
      return AppendText(AsText(&value), out);
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return AppendInt(*AsInt(&value), out);
    case msgpack::type::ARRAY: {
      const uint32_t n = value.via.array.size;
      const uint32_t shown = style.full || n <= kShortList ? n : kShortList;
      out->push_back('[');
      for (uint32_t i = 0; i < shown; ++i) {
        if (i > 0) out->append(", ");
        const msgpack::object& item = value.via.array.ptr[i];
        if (item.type == msgpack::type::STR || item.type == msgpack::type::BIN) {
          AppendQuoted(AsText(&item), style, out);
        } else {
          AppendArgValue("", item, style, out);
        }
      }
      if (shown < n) out->append(", ... +" + std::to_string(n - shown));
      out->push_back(']');
      return;
    }
    default: {
      std::string json;
      AppendJson(value, &json);
      AppendText(json, out);
    }
  }
}

void AppendArgs(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  const msgpack::object* args = Field(event, "args");
  const msgpack::object* decoded = args != nullptr ? Field(*args, "decoded") : nullptr;
  if (decoded != nullptr && decoded->type == msgpack::type::MAP) {
    bool first = true;
    for (uint32_t i = 0; i < decoded->via.map.size; ++i) {
      const msgpack::object_kv& kv = decoded->via.map.ptr[i];
      const std::string_view key = AsText(&kv.key);
      if (key == "truncated") continue;  // shown as "..." after the path
      if (!first) out->append(", ");
      first = false;
      AppendArgValue(key, kv.val, style, out);
      if ((key == "path" || key == "path2") && BoolField(*decoded, "truncated")) {
        out->append("...");
      }
    }
    return;
  }
  const msgpack::object* raw = args != nullptr ? Field(*args, "raw") : nullptr;
  if (raw == nullptr || raw->type != msgpack::type::ARRAY) return;
  for (uint32_t i = 0; i < raw->via.array.size; ++i) {
    if (i > 0) out->append(", ");
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%" PRIx64,
                  static_cast<uint64_t>(AsInt(&raw->via.array.ptr[i]).value_or(0)));
    out->append(hex);
  }
}

void AppendReturn(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  out->append(" = ");
  if (!BoolField(event, "returned", true)) {
    out->push_back('?');
    return;
  }
  const int64_t ret = IntField(event, "return_value");
  if (!BoolField(event, "success", true)) {
    const std::string_view error = TextField(event, "error");
    std::string text = "-1 ";
    if (error.empty()) {
      text = std::to_string(ret);
    } else {
      AppendText(error, &text);
    }
    Paint(style, kRed, text, out);
    return;
  }
  if (TextField(event, "category") == "memory" && ret > 0xffff) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%" PRIx64, static_cast<uint64_t>(ret));
    out->append(hex);
    return;
  }
  AppendInt(ret, out);
}

void AppendSummaryRow(std::string_view label, const std::string& value, const TerminalStyle& style,
                      const char* color, std::string* out) {
  out->append("  ");
  out->append(label);
  out->append(label.size() < 12 ? 12 - label.size() : 1, ' ');
  Paint(style, color, value, out);
  out->push_back('\n');
}

uint32_t ArraySize(const msgpack::object* value) {
  return value != nullptr && value->type == msgpack::type::ARRAY ? value->via.array.size : 0;
}

}  // namespace

void FormatSyscall(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  AppendPidPrefix(event, style, out);
  AppendText(TextField(event, "syscall", "?"), out);
  out->push_back('(');
  AppendArgs(event, style, out);
  out->push_back(')');
  AppendReturn(event, style, out);
  const std::string_view category = TextField(event, "category");
  out->append("  ");
  std::string label;
  AppendText(category, &label);
  Paint(style, CategoryColor(category), label, out);
  const std::string_view action = TextField(event, "action", "allow");
  if (action == "deny") Paint(style, kBoldRed, "  DENIED", out);
  if (action == "kill") Paint(style, kBoldRed, "  KILLED", out);
  if (action == "log_only") Paint(style, kYellow, "  LOGGED", out);
  if (style.full) out->append("  <" + std::to_string(IntField(event, "duration_us")) + "us>");
  out->push_back('\n');
}

void FormatProcess(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  const std::string_view action = TextField(event, "action");
  std::string text;
  if (action == "spawn") {
    char line[96];
    std::snprintf(line, sizeof line, "[pid %5" PRId64 "] ", IntField(event, "ppid"));
    Paint(style, kDim, line, out);
    text = (BoolField(event, "thread") ? "--- new thread " : "--- new process ") +
           std::to_string(IntField(event, "pid")) + " ---";
  } else {
    AppendPidPrefix(event, style, out);
    if (action == "exec") {
      text = "--- exec ";
      AppendText(TextField(event, "path"), &text);
      const msgpack::object* argv = Field(event, "argv");
      if (argv != nullptr) {
        text.push_back(' ');
        AppendArgValue("argv", *argv, style, &text);
      }
      text += " ---";
    } else if (action == "exited") {
      text = "+++ exited with " + std::to_string(IntField(event, "exit_code")) + " +++";
    } else if (action == "signaled") {
      text = "+++ killed by ";
      AppendText(TextField(event, "signal", "?"), &text);
      if (BoolField(event, "core_dumped")) text += " (core dumped)";
      text += " +++";
    } else {
      text = "--- process event ";
      AppendText(action, &text);
      text += " ---";
    }
  }
  Paint(style, kCyan, text, out);
  out->push_back('\n');
}

void FormatSandbox(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  std::string text = "sandtrace: run ";
  AppendText(TextField(event, "run_id"), &text);
  text += ": ";
  AppendText(TextField(event, "executable"), &text);
  Paint(style, kBold, text, out);
  out->push_back('\n');
  const msgpack::object* layers = Field(event, "layers");
  std::string line = "sandtrace: layers:";
  for (uint32_t i = 0; i < ArraySize(layers); ++i) {
    const msgpack::object& layer = layers->via.array.ptr[i];
    const bool applied = TextField(layer, "state") == "applied";
    if (style.full) {
      out->append("sandtrace:   layer " + std::to_string(IntField(layer, "layer")) + " ");
      AppendText(TextField(layer, "name"), out);
      out->append(applied ? " applied" : " skipped");
      const std::string_view detail = TextField(layer, "detail");
      if (!detail.empty()) {
        out->append(": ");
        AppendText(detail, out);
      }
      out->push_back('\n');
      continue;
    }
    line.push_back(' ');
    AppendText(TextField(layer, "name"), &line);
    line += applied ? "" : "(skipped)";
  }
  if (!style.full) out->append(line + "\n");
}

void FormatAlert(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  std::string text = "!! alert [";
  AppendText(TextField(event, "severity"), &text);
  text += "] ";
  AppendText(TextField(event, "rule"), &text);
  text += ": ";
  AppendText(TextField(event, "message"), &text);
  text += " (pid " + std::to_string(IntField(event, "pid")) + ")";
  Paint(style, kBoldRed, text, out);
  out->push_back('\n');
}

void FormatGap(const msgpack::object& event, const TerminalStyle& style, std::string* out) {
  std::string text = "sandtrace: GAP ";
  AppendText(TextField(event, "stage"), &text);
  text += ": " + std::to_string(IntField(event, "lost_records")) + " records, " +
          std::to_string(IntField(event, "lost_messages")) + " messages lost";
  Paint(style, kBoldRed, text, out);
  out->push_back('\n');
}

void FormatSummary(const msgpack::object& e, const TerminalStyle& style, std::string* out) {
  out->push_back('\n');
  Paint(style, kBold, "sandtrace summary", out);
  out->push_back('\n');
  std::string outcome;
  AppendText(TextField(e, "outcome", "?"), &outcome);
  outcome += ", exit code " + std::to_string(IntField(e, "exit_code"));
  AppendSummaryRow("outcome", outcome, style, nullptr, out);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f s",
                static_cast<double>(IntField(e, "duration_ms")) / 1000.0);
  AppendSummaryRow("duration", duration, style, nullptr, out);
  const int64_t denied = IntField(e, "denied_count");
  AppendSummaryRow("syscalls",
                   std::to_string(IntField(e, "total_syscalls")) + " total, " +
                       std::to_string(IntField(e, "unique_syscalls")) + " unique, " +
                       std::to_string(denied) + " denied",
                   style, denied > 0 ? kRed : nullptr, out);
  AppendSummaryRow("processes",
                   std::to_string(IntField(e, "process_count")) + " (" +
                       std::to_string(IntField(e, "thread_count", 0)) + " threads)",
                   style, nullptr, out);
  AppendSummaryRow("files", std::to_string(ArraySize(Field(e, "files_accessed"))) + " accessed",
                   style, nullptr, out);
  const msgpack::object* network = Field(e, "network_attempts");
  AppendSummaryRow("network", std::to_string(ArraySize(network)) + " attempts", style,
                   ArraySize(network) > 0 ? kMagenta : nullptr, out);
  for (uint32_t i = 0; i < ArraySize(network) && (style.full || i < kShortList); ++i) {
    const msgpack::object& attempt = network->via.array.ptr[i];
    std::string line = "    pid " + std::to_string(IntField(attempt, "pid")) + " ";
    AppendText(TextField(attempt, "syscall"), &line);
    line.push_back(' ');
    AppendAddress(attempt, &line);
    line += BoolField(attempt, "success") ? " ok\n" : " failed\n";
    out->append(line);
  }
  if (const int64_t gaps = IntField(e, "gaps"); gaps > 0) {
    AppendSummaryRow("gaps", std::to_string(gaps) + " records lost in the pipeline", style,
                     kBoldRed, out);
  }
  if (BoolField(e, "incomplete")) {
    std::string reason = "incomplete: ";
    AppendText(TextField(e, "reason", "no summary from the analyser"), &reason);
    AppendSummaryRow("trace", reason, style, kBoldRed, out);
  }
  const msgpack::object* suspicious = Field(e, "suspicious_activity");
  if (ArraySize(suspicious) == 0) return;
  Paint(style, kBoldRed, "  SUSPICIOUS ACTIVITY (" + std::to_string(ArraySize(suspicious)) + ")\n",
        out);
  for (uint32_t i = 0; i < ArraySize(suspicious); ++i) {
    const msgpack::object& item = suspicious->via.array.ptr[i];
    std::string line = "    !! pid " + std::to_string(IntField(item, "pid")) + " ";
    AppendText(TextField(item, "rule"), &line);
    line.push_back(' ');
    const std::string_view target =
        Field(item, "path") != nullptr ? TextField(item, "path") : TextField(item, "address");
    AppendText(target, &line);
    line += " (";
    AppendText(TextField(item, "syscall"), &line);
    line += ")";
    Paint(style, kBoldRed, line, out);
    out->push_back('\n');
  }
}

}  // namespace sandtrace::sinks
