// The JSON text of the map keys the MessagePack -> JSON transcoder wrote at each position of
// the events before. The analyser's events carry the same keys in the same order
// ("event_type", "timestamp", "pid", ...), so the key at a position of an event is most often
// one of the keys seen at that position before: the transcoder compares the key's bytes with
// those (one 16-byte compare each) and copies the text, instead of decoding, escape-checking
// and copying the key again. Beside the text, an entry keeps what the MapEntryVisitor answered
// for its key (its Interest), so that is asked once too.
//
// A position is the key's index in the outermost map, or for keys of nested maps, their count
// from the event's first nested map on (so that the decoded arguments, which differ from one
// syscall to the next, do not shift the outermost keys). Each position keeps its two most
// recent keys. Only fixstr keys of at most 15 bytes (Cacheable) whose JSON needs no escape are
// kept.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sandtrace::sinks {

class JsonKeyCache {
 public:
  static constexpr size_t kPositions = 48;
  static constexpr size_t kOuter = 24;  // positions of the outermost map's keys
  static constexpr size_t kWays = 2;
  static constexpr int16_t kNotAsked = -1;

  struct Entry {
    alignas(16) uint8_t bytes[16] = {};  // the key's fixstr header and text
    uint32_t mask = 0;                   // a bit for each byte of the key in `bytes`; 0: no key yet
    char text[32] = {};                  // "key": (its JSON text and the colon), copied whole
    uint8_t text_size = 0;
    int16_t interest = kNotAsked;  // MapEntryVisitor::Interest of the key
  };

  // True when the byte is the header of a fixstr of at most 15 bytes: header and text fit the
  // 16 bytes of an Entry.
  static bool Cacheable(uint8_t header) { return (header & 0xf0) == 0xa0; }

  // The position of the outermost map's key number `index`, and of the nested maps' key number
  // `index`; kNoPosition past the last ones.
  static size_t OuterPosition(size_t index) { return index < kOuter ? index : kNoPosition; }
  static size_t NestedPosition(size_t index) {
    return index < kPositions - kOuter ? kOuter + index : kNoPosition;
  }
  static constexpr size_t kNoPosition = ~size_t{0};

  // The entry at `position` that holds the key starting at `key` (16 readable bytes), or null.
  Entry* Find(size_t position, const uint8_t* key) {
    static_assert(kWays == 2, "Find looks at exactly two ways");
    std::array<Entry, kWays>& ways = entries_[position];
    if (Holds(ways[0], key)) return &ways[0];
    return Holds(ways[1], key) ? &ways[1] : nullptr;
  }

  // The entry at `position` for a new key (to Remember): it becomes the position's most recent,
  // and the least recent key there is forgotten.
  Entry* Replace(size_t position) {
    std::array<Entry, kWays>& ways = entries_[position];
    for (size_t i = kWays - 1; i > 0; --i) ways[i] = ways[i - 1];
    return &ways[0];
  }

  // Makes `entry` hold the key whose fixstr header (Cacheable) is at `key`, and `text`, the
  // JSON text and colon written for it, unless the key needed escaping: then `entry` is emptied
  // and false returned.
  static bool Remember(Entry* entry, const uint8_t* key, std::string_view text) {
    const size_t size = 1 + (key[0] & 0x0f);
    *entry = Entry{};
    if (text.size() != size + 2) return false;  // "key": -- anything longer was escaped
    std::memcpy(entry->bytes, key, size);
    entry->mask = (uint32_t{1} << size) - 1;
    std::memcpy(entry->text, text.data(), text.size());
    entry->text_size = static_cast<uint8_t>(text.size());
    return true;
  }

 private:
  // True when `entry` holds the key that starts at `key` (16 readable bytes).
  static bool Holds(const Entry& entry, const uint8_t* key) {
#if defined(__SSE2__)
    const __m128i seen = _mm_load_si128(reinterpret_cast<const __m128i*>(entry.bytes));
    const __m128i here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
    const auto equal = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(seen, here)));
    return entry.mask != 0 && (equal & entry.mask) == entry.mask;
#else
    return entry.mask != 0 && std::memcmp(entry.bytes, key, 1 + (key[0] & 0x0f)) == 0;
#endif
  }

  std::array<std::array<Entry, kWays>, kPositions> entries_{};
};

}  // namespace sandtrace::sinks
