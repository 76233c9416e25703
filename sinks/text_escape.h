// Escaping of untrusted bytes (paths, argv, comm names copied out of the tracee) for the two
// text outputs: JSON strings and the terminal. Valid UTF-8 passes through; every byte that is
// not part of a valid UTF-8 sequence is written as the four characters `\xNN`, so the output is
// always valid UTF-8 and a hostile path cannot inject control sequences into a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sandtrace::sinks {

enum class EscapeMode {
  // RFC 8259 string contents: `"` and `\` escaped, control characters as \n \t ... or \u00XX,
  // invalid bytes as the literal text \xNN (in JSON source: "\\xNN").
  kJson,
  // Terminal text: `"` and `\` escaped, C0/C1 control characters and DEL as \n \t \r or \xNN,
  // invalid bytes as \xNN.
  kTerminal,
};

// Length (1-4) of the valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) at the start of `text`, or 0 when its first byte does not start one.
size_t Utf8SequenceLength(std::string_view text);

// Most output bytes one input byte can become ("\u00XX").
inline constexpr size_t kMaxEscapedBytesPerByte = 6;

// Writes `text` escaped for `mode`, without surrounding quotes, at `out`, which must have room
// for kMaxEscapedBytesPerByte * text.size() bytes. Returns the end of what was written.
char* WriteEscaped(std::string_view text, EscapeMode mode, char* out);

// Appends `text` escaped for `mode`, without surrounding quotes, to `out`.
void AppendEscaped(std::string_view text, EscapeMode mode, std::string* out);

}  // namespace sandtrace::sinks
