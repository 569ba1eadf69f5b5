// JsonField: writes one "key": value member with any RapidJSON-style SAX writer (Key, String,
// Bool, Int64, Uint64, Double). Header-only and free of RapidJSON includes so any module can use
// it with its own writer type; stateless, so thread-safe.
//
// The value's C++ type picks the JSON form: bool -> true/false, anything convertible to
// std::string_view -> string, floating point -> number with a fraction, other integers -> integer.
// Writers that need a special form (non-finite doubles as null, nested objects) stay explicit.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace mlos {

template <typename Writer, typename T>
void JsonField(Writer* w, std::string_view key, const T& value) {
  w->Key(key.data(), static_cast<unsigned>(key.size()));
  if constexpr (std::is_same_v<T, bool>) {
    w->Bool(value);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    const std::string_view s = value;
    w->String(s.data(), static_cast<unsigned>(s.size()));
  } else if constexpr (std::is_floating_point_v<T>) {
    w->Double(static_cast<double>(value));
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w->Int64(static_cast<int64_t>(value));
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    w->Uint64(static_cast<uint64_t>(value));
  } else {
    static_assert(sizeof(T) == 0, "JsonField: no JSON form for this type");
  }
}

}  // namespace mlos
